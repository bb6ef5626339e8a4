/**
 * Jest setup: a failed `supertest` status expectation also names the response's body, so a CI
 * log says why a request got 503 rather than only that it did.
 */
const Test = require('supertest/lib/test');

const MAX_BODY_CHARS = 600;
for (const name of ['_assertStatus', '_assertStatusArray']) {
  const assert = Test.prototype[name];
  Test.prototype[name] = function (expected, res) {
    const error = assert.call(this, expected, res);
    if (error) {
      const body = res.text || (res.body === undefined ? '' : JSON.stringify(res.body));
      if (body)
        error.message += `: ${body.length > MAX_BODY_CHARS ? `${body.slice(0, MAX_BODY_CHARS)}…` : body}`;
    }
    return error;
  };
}
