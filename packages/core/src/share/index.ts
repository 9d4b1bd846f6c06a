export { hashShareToken, looksLikeShareToken, newShareToken, tokenMatches } from './share-token.ts'
export { checkSharePolicy, checkShareRequest, DEFAULT_SHARE_POLICY, SHARE_PASSWORD_RULE, SHARE_POLICY_LIMITS, shareState } from './share-policy.ts'
export type { SharePolicy, ShareLifecycle, ShareRequest, ShareState, ShareTerms } from './share-policy.ts'
