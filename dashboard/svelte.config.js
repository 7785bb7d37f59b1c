// One SvelteKit app, two builds (chosen by TUITBOT_TARGET, set by the root package.json scripts):
// - cloud (default): public pages prerendered to HTML, /dashboard/* a client-side app served from 200.html,
//   all into build/cloud, which the supervisor serves from its own port (supervisor/web/).
// - desktop: a plain SPA (nothing prerendered, index.html fallback) into build/desktop (or TUITBOT_DESKTOP_OUT),
//   talking to the API base in VITE_API_BASE (empty: the same origin). Its intermediate files go to
//   .svelte-kit/desktop, so a desktop build never trips over a cloud build running at the same time (tests do).
import adapter from '@sveltejs/adapter-static';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

const target = process.env.TUITBOT_TARGET === 'desktop' ? 'desktop' : 'cloud';
const out = target === 'desktop' ? (process.env.TUITBOT_DESKTOP_OUT || 'build/desktop') : 'build/cloud';

/** @type {import('@sveltejs/kit').Config} */
export default {
  preprocess: vitePreprocess(),
  kit: {
    ...(target === 'desktop' && { outDir: '.svelte-kit/desktop' }),
    adapter: adapter({ pages: out, assets: out, fallback: target === 'desktop' ? 'index.html' : '200.html', precompress: true, strict: true }),
    alias: {
      // Build-time reads of the product's own sources (the plan catalog, the configuration list).
      $repo: '..',
    },
    // Absolute asset paths: the SPA fallback is served at every /dashboard/* depth.
    paths: { relative: false },
    version: { pollInterval: 0 },
    prerender: {
      // Links into the server's own routes (the API document, GitHub login) are not pages of this app.
      handleHttpError: ({ path, message }) => {
        if (/^\/(api|auth|dev)(\/|$)/.test(path)) return;
        throw new Error(message);
      },
      handleMissingId: 'fail',
    },
  },
};
