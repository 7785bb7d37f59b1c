// See https://svelte.dev/docs/kit/types#app.d.ts
declare global {
  namespace App {}
  interface ImportMetaEnv {
    readonly TUITBOT_TARGET: 'cloud' | 'desktop';
    /** Desktop build: where the API lives (empty: the page's own origin). */
    readonly VITE_API_BASE?: string;
  }
}
export {};
