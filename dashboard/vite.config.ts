import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [sveltekit()],
  define: {
    // Known at build time so each build keeps only its own branches.
    'import.meta.env.TUITBOT_TARGET': JSON.stringify(process.env.TUITBOT_TARGET === 'desktop' ? 'desktop' : 'cloud'),
  },
  server: {
    // `npm run dev` here, the supervisor on :3001: the API, auth and the live socket are proxied to it.
    proxy: {
      '/api': { target: 'http://127.0.0.1:3001', ws: true },
      '/auth': 'http://127.0.0.1:3001',
      '/dev': 'http://127.0.0.1:3001',
    },
    fs: { allow: ['..'] },
  },
});
