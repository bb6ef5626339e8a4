/** Metadata key of a route's authorization rule (see authorize.decorator.ts). */
export const AUTHORIZATION_KEY = 'atrium:authorization';
