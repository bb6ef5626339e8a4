import { AppError } from '@atrium/contracts';
import { runIdFromUrl } from './run-reference';

describe('runIdFromUrl', () => {
  const id = 'AbCdEfGhIjKlMnOpQ';

  it.each([
    [`https://api.apify.com/v2/actor-runs/${id}`],
    [`http://127.0.0.1:3000/v2/actor-runs/${id}?token=x`],
    [`https://console.apify.com/actors/runs/${id}`],
    [`https://console.apify.com/actors/runs/${id}#log`],
    [`https://console.apify.com/view/runs/${id}?tab=output`],
    [`https://console.apify.com/actors/Xyz0123456789abcd/runs/${id}/`],
    [`https://api.apify.com/v2/actor-runs/${id}/log`],
    [`console.apify.com/actors/runs/${id}`],
    [`  ${id}  `],
  ])('finds the run id in %s', (url) => {
    expect(runIdFromUrl(url)).toBe(id);
  });

  it.each([
    ['https://console.apify.com/actors/runs/'],
    [`https://console.apify.com/actors/${id}`],
    [`https://api.apify.com/v2/datasets/${id}`],
    [`https://console.apify.com/actors/runs/${id}x`],
    ['not a url'],
  ])('refuses %s as invalid input naming the field', (url) => {
    let error: unknown;
    try {
      runIdFromUrl(url);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).type).toBe('invalid-input');
    expect((error as AppError).message).toContain('body.runUrl');
  });
});
