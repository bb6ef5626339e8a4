/** Apify-style error types, with the HTTP status each maps to. */
export const ERROR_STATUS = {
  'invalid-input': 400,
  'token-not-valid': 401,
  'insufficient-permissions': 403,
  'record-not-found': 404,
  'method-not-allowed': 405,
  conflict: 409,
  /** A runner's lease on a run that it no longer holds (expired, or taken over by another worker). */
  'lease-lost': 409,
  'payload-too-large': 413,
  'rate-limit-exceeded': 429,
  'quota-exceeded': 402,
  'invalid-signature': 403,
  /** A request-queue lock the caller does not hold, or a request already handled (Apify's type). */
  'request-handled-or-locked': 403,
  'internal-error': 500,
  'service-unavailable': 503,
} as const;
export type ErrorType = keyof typeof ERROR_STATUS;

/** An error that crosses service boundaries unchanged: it serializes to `{ type, message }`. */
export class AppError extends Error {
  constructor(
    readonly type: ErrorType,
    message: string,
  ) {
    super(message);
    this.name = 'AppError';
  }

  get status(): number {
    return ERROR_STATUS[this.type];
  }

  toJSON(): SerializedAppError {
    return { type: this.type, message: this.message };
  }

  static isSerialized(value: unknown): value is SerializedAppError {
    return (
      typeof value === 'object' &&
      value !== null &&
      typeof (value as SerializedAppError).type === 'string' &&
      (value as SerializedAppError).type in ERROR_STATUS &&
      typeof (value as SerializedAppError).message === 'string'
    );
  }

  static from(value: SerializedAppError): AppError {
    return new AppError(value.type, value.message);
  }

  static notFound(what = 'The record'): AppError {
    return new AppError('record-not-found', `${what} was not found`);
  }
}

export interface SerializedAppError {
  type: ErrorType;
  message: string;
}
