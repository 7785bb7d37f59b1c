// The dashboard is a client-side app: it is per user, behind a login, and nothing in it is for search engines.
export const prerender = false;
export const ssr = false;
