/**
 * The state of a form that posts to the API: busy while in flight, the server's message, and its per-field
 * problems (the `fields` of the error envelope) to show next to each input.
 */
import { onMount } from 'svelte';
import { ApiError, messageOf } from './api';

export class FormState {
  /**
   * False until the page is hydrated. Prerendered forms are visible before their script runs, and a submit then
   * would be the browser's own (the password in a URL): their buttons stay disabled until this is true.
   */
  ready = $state(false);
  busy = $state(false);
  error = $state('');
  fields = $state<Record<string, string>>({});

  /** Must be made while a component initialises (it registers an onMount). */
  constructor() {
    onMount(() => {
      this.ready = true;
    });
  }

  /** Runs `action`; on failure keeps the message and field problems instead of throwing. */
  async submit<T>(action: () => Promise<T>): Promise<T | undefined> {
    this.busy = true;
    this.error = '';
    this.fields = {};
    try {
      return await action();
    } catch (error) {
      this.error = messageOf(error);
      if (error instanceof ApiError) this.fields = error.fields;
      return undefined;
    } finally {
      this.busy = false;
    }
  }

  /** aria attributes of an input whose field may have a problem. */
  aria(field: string): { 'aria-invalid': 'true' | undefined; 'aria-describedby': string | undefined } {
    const bad = this.fields[field] !== undefined;
    return { 'aria-invalid': bad ? 'true' : undefined, 'aria-describedby': bad ? `${field}-error` : undefined };
  }
}
