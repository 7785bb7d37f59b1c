// The plan table is the billing catalog itself (supervisor/billing/plans.ts), read when the page is built, so the
// page never disagrees with what checkout charges.
import { OVERAGE_MARGIN, PLANS } from '$repo/supervisor/billing/plans';

export function load() {
  return { plans: PLANS, overageMarginPercent: Math.round(OVERAGE_MARGIN * 100) };
}
