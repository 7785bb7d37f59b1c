/**
 * The hosted pages of the fake Stripe: Checkout (`/c/pay/<session>`), the customer portal
 * (`/p/session/<secret>`) and the hosted invoice (`/i/<invoice>`). Plain server-rendered HTML with no
 * external assets, every value escaped, every action a POST form answered by a 303 (post/redirect/get).
 * The buttons call the same engine functions as the test controls.
 */
import type Stripe from 'stripe';
import type { BillingEngine } from './billing.js';
import { subscriptionOf } from './billing.js';

export interface PageResult {
  status: number;
  html?: string;
  location?: string;
}

const esc = (value: unknown): string =>
  String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const money = (cents: number | null) => `$${((cents ?? 0) / 100).toFixed(2)}`;
const date = (sec: number | null) => (sec === null ? '—' : new Date(sec * 1000).toISOString().slice(0, 10));

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} · Sandbox Stripe</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}
.banner{background:#fff3cd;border:1px solid #e0c36a;padding:.5rem .75rem;border-radius:6px;font-weight:600}
.error{background:#fde2e1;border:1px solid #e59b97;padding:.5rem .75rem;border-radius:6px}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.3rem .4rem;border-bottom:1px solid #ddd}
form{display:inline}button{margin:.25rem .25rem .25rem 0;padding:.45rem .8rem;font:inherit;cursor:pointer}
section{border:1px solid #ddd;border-radius:6px;padding:.75rem;margin:1rem 0}
</style></head><body>
<p class="banner">Sandbox Stripe — no real money. Nothing here charges a card.</p>
<h1>${esc(title)}</h1>
${body}
</body></html>`;
}

const button = (action: string, label: string, fields: Record<string, string> = {}) =>
  `<form method="post">${Object.entries({ action, ...fields })
    .map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`)
    .join('')}<button type="submit">${esc(label)}</button></form>`;

// ---- checkout ------------------------------------------------------------------------------------

export function checkoutPage(engine: BillingEngine, id: string): PageResult {
  const record = engine.sessions.get(id);
  if (!record) return { status: 404, html: layout('Checkout not found', '<p>This checkout session does not exist.</p>') };
  const s = record.session;
  const rows = record.lineItems
    .map((line) => {
      const entry = engine.catalog.get(line.price)!;
      const what = entry.fake.recurring.usageType === 'metered' ? `${money(entry.fake.unitAmount)} per unit, billed monthly by usage` : `${line.quantity ?? 1} × ${money(entry.fake.unitAmount)} / month`;
      return `<tr><td>${esc(entry.fake.productName)}</td><td>${esc(what)}</td></tr>`;
    })
    .join('');
  const summary = `<table><tr><th>Product</th><th>Price</th></tr>${rows}</table><p>Due today: <strong>${esc(money(s.amount_total))}</strong></p>`;
  if (s.status === 'complete') {
    const success = s.success_url?.replaceAll('{CHECKOUT_SESSION_ID}', s.id);
    return { status: 200, html: layout('Payment complete', `${summary}<p>Thanks — this checkout is paid.</p>${success ? `<p><a href="${esc(success)}">Continue</a></p>` : ''}`) };
  }
  if (s.status === 'expired') return { status: 200, html: layout('Checkout expired', `<p>This checkout session has expired.</p>`) };
  const customer = typeof s.customer === 'string' ? engine.customers.get(s.customer) : undefined;
  const email = customer?.email ?? s.customer_email;
  return {
    status: 200,
    html: layout(
      'Subscribe',
      `${record.lastError ? `<p class="error" role="alert">${esc(record.lastError)}</p>` : ''}
${email ? `<p>Customer: ${esc(email)}</p>` : ''}
${summary}
<p>${button('pay', 'Pay with test card 4242 4242 4242 4242')}
${button('decline', 'Decline (test card 4000 0000 0000 0002)')}
${button('cancel', 'Cancel and go back')}</p>`,
    ),
  };
}

export function checkoutAction(engine: BillingEngine, id: string, form: URLSearchParams, complete: (outcome: 'pay' | 'decline' | 'cancel') => { redirect: string | null }): PageResult {
  const record = engine.sessions.get(id);
  if (!record) return checkoutPage(engine, id);
  const action = form.get('action');
  if (action !== 'pay' && action !== 'decline' && action !== 'cancel') return { status: 400, html: layout('Bad request', '<p>Unknown action.</p>') };
  if (record.session.status !== 'open') return { status: 303, location: `/c/pay/${encodeURIComponent(id)}` };
  const { redirect } = complete(action);
  if (redirect) return { status: 303, location: redirect };
  // A decline re-renders the page with the card error, as Checkout does; 402 lets scripts tell it apart.
  if (action === 'decline') return { ...checkoutPage(engine, id), status: 402 };
  return { status: 303, location: `/c/pay/${encodeURIComponent(id)}` };
}

// ---- portal --------------------------------------------------------------------------------------

export function portalPage(engine: BillingEngine, secret: string, notice?: string): PageResult {
  const portal = engine.portals.get(secret);
  if (!portal) return { status: 404, html: layout('Session expired', '<p>This portal link is not valid. Go back to the app and open billing again.</p>') };
  const customerId = portal.session.customer;
  const customer = engine.customers.get(customerId);
  const subs = [...engine.subscriptions.values()].filter((s) => s.customer === customerId).sort((a, b) => b.created - a.created);
  const licensed = [...engine.catalog.values()].filter((e) => e.fake.recurring.usageType === 'licensed');
  const sections = subs.map((sub) => subscriptionSection(engine, sub, licensed)).join('');
  const back = portal.session.return_url ? `<p><a href="${esc(portal.session.return_url)}">← Return to the app</a></p>` : '';
  return {
    status: 200,
    html: layout(
      'Billing',
      `${back}${notice ? `<p class="banner">${esc(notice)}</p>` : ''}<p>Customer: ${esc(customer?.email ?? customerId)}</p>
${sections || '<p>No subscriptions.</p>'}
<section><h2>Payment method</h2><p>Payments currently: <strong>${esc(engine.paymentBehaviour(customerId))}</strong></p>
${button('update_card', 'Update card (test card 4242; retries open invoices)')}</section>${back}`,
    ),
  };
}

function subscriptionSection(engine: BillingEngine, sub: Stripe.Subscription, licensed: { fake: { id: string; productName: string; unitAmount: number | null } }[]): string {
  const items = sub.items.data
    .map((item) => `<tr><td>${esc(engine.catalog.get(item.price.id)?.fake.productName ?? item.price.id)}</td><td>${esc(item.quantity ?? 'metered')}</td><td>${esc(money(item.price.unit_amount))}</td></tr>`)
    .join('');
  const end = Math.min(...sub.items.data.map((i) => i.current_period_end));
  const open = [...engine.invoices.values()].filter((r) => subscriptionOf(r.invoice) === sub.id && r.invoice.status === 'open');
  const live = sub.status !== 'canceled';
  const current = sub.items.data.find((i) => i.price.recurring?.usage_type === 'licensed');
  const switches = live && current
    ? licensed
        .filter((e) => e.fake.id !== current.price.id)
        .map((e) => button('switch', `Switch to ${e.fake.productName} (${money(e.fake.unitAmount)}/month)`, { subscription: sub.id, price: e.fake.id }))
        .join('')
    : '';
  const status = sub.cancel_at_period_end ? `${sub.status}, cancels on ${date(sub.cancel_at)}` : sub.status;
  return `<section><h2>Subscription ${esc(sub.id)}</h2>
<p>Status: <strong>${esc(status)}</strong>${live ? ` · current period ends ${esc(date(end))}` : ` · ended ${esc(date(sub.ended_at))}`}</p>
<table><tr><th>Plan</th><th>Quantity</th><th>Unit price</th></tr>${items}</table>
${open.map((r) => `<p class="error">Unpaid invoice ${esc(r.invoice.number)}: ${esc(money(r.invoice.amount_remaining))} (next attempt ${esc(date(r.invoice.next_payment_attempt))})</p>`).join('')}
${switches ? `<p>${switches}</p>` : ''}
${live ? `<p>${sub.cancel_at_period_end ? button('resume', 'Resume subscription', { subscription: sub.id }) : button('cancel_at_period_end', 'Cancel at period end', { subscription: sub.id })}${button('cancel_now', 'Cancel now', { subscription: sub.id })}</p>` : ''}
</section>`;
}

export function portalAction(engine: BillingEngine, secret: string, form: URLSearchParams): PageResult {
  const portal = engine.portals.get(secret);
  if (!portal) return portalPage(engine, secret);
  const customerId = portal.session.customer;
  const action = form.get('action');
  const back: PageResult = { status: 303, location: `/p/session/${encodeURIComponent(secret)}` };
  if (action === 'update_card') {
    engine.updatePaymentMethod(customerId);
    return back;
  }
  const sub = engine.subscriptions.get(form.get('subscription') ?? '');
  if (!sub || sub.customer !== customerId) return { ...portalPage(engine, secret, 'That subscription is not yours.'), status: 404 };
  const cause = { requestId: null, idempotencyKey: null };
  if (action === 'switch') {
    const price = form.get('price') ?? '';
    const item = sub.items.data.find((i) => i.price.recurring?.usage_type === 'licensed');
    const target = engine.catalog.get(price);
    if (!item || !target || target.fake.recurring.usageType !== 'licensed') return { ...portalPage(engine, secret, 'That plan is not available.'), status: 400 };
    engine.updateSubscription(sub.id, { items: [{ id: item.id, price }], prorationBehavior: 'create_prorations' }, cause);
  } else if (action === 'cancel_at_period_end' || action === 'resume') {
    engine.updateSubscription(sub.id, { cancelAtPeriodEnd: action === 'cancel_at_period_end' }, cause);
  } else if (action === 'cancel_now') {
    if (sub.status !== 'canceled') engine.cancelSubscription(sub.id, cause);
  } else {
    return { ...portalPage(engine, secret, 'Unknown action.'), status: 400 };
  }
  return back;
}

// ---- hosted invoice ------------------------------------------------------------------------------

export function invoicePage(engine: BillingEngine, id: string): PageResult {
  const record = engine.invoices.get(id);
  if (!record) return { status: 404, html: layout('Invoice not found', '<p>No such invoice.</p>') };
  const inv = record.invoice;
  const lines = inv.lines.data.map((l) => `<tr><td>${esc(l.description)}</td><td>${esc(money(l.amount))}</td></tr>`).join('');
  return {
    status: 200,
    html: layout(
      `Invoice ${inv.number ?? inv.id}`,
      `<p>Status: <strong>${esc(inv.status)}</strong> · billed to ${esc(inv.customer_email ?? inv.customer)}</p>
<table><tr><th>Description</th><th>Amount</th></tr>${lines}</table>
<p>Total ${esc(money(inv.total))} · paid ${esc(money(inv.amount_paid))} · remaining ${esc(money(inv.amount_remaining))}</p>`,
    ),
  };
}
