// Cloud: every public page is prerendered to HTML at build time (search engines and no-JS clients read it, and
// the server only sends files). Desktop: a plain client-side app, nothing rendered ahead.
const cloud = import.meta.env.TUITBOT_TARGET === 'cloud';
export const prerender = cloud;
export const ssr = cloud;
export const trailingSlash = 'never';
