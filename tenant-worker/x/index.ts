/** The tenant's X client: typed, metered calls (client.ts) over a careful transport, with its tokens kept fresh. */
export { XClient, hasUrl, type KeywordSearch, type NewPost, type PageOptions, type SearchOptions, type ThreadResult, type XClientOptions } from './client.js';
export { XApiError, XAuthExpiredError, XBudgetRefusedError, XError, XForbiddenError, XNetworkError, XRateLimitedError } from './errors.js';
export { MEDIA_LIMITS, mediaKindOf, type MediaKind } from './media-upload.js';
export { REFRESH_MARGIN_MS, TokenManager, type TokenManagerOptions, type TokenStore, type XOAuthSettings, type XTokens } from './token-manager.js';
export type { XMetrics, XPage, XPost, XUser } from './types.js';
