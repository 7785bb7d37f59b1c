/**
 * The account page has several forms that share field names (`password` in most of them): each form's problems
 * are tied to its inputs under its own prefix, so no two error ids collide.
 */
import type { FormState } from '$lib/forms.svelte';

export function fieldAria(form: FormState, prefix: string, field: string): { 'aria-invalid': 'true' | undefined; 'aria-describedby': string | undefined } {
  const bad = form.fields[field] !== undefined;
  return { 'aria-invalid': bad ? 'true' : undefined, 'aria-describedby': bad ? `${prefix}-${field}-error` : undefined };
}
