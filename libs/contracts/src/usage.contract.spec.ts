import { AppError } from './app-error';
import { calendarDate, toUsageLimitsChange, updateLimitsBody } from './usage.contract';

describe('limits updates and usage dates', () => {
  it("maps Apify's names of the limits Atrium has onto its own, and refuses one limit named twice", () => {
    const change = (body: unknown) => toUsageLimitsChange(updateLimitsBody.parse(body));
    expect(change({ maxActorCount: 3, maxScheduleCount: null, storageBytes: 10 })).toEqual({
      storageBytes: 10,
      resources: { ACTOR: 3, SCHEDULE: null },
    });
    expect(change({ resources: { DATASET: 2 } })).toEqual({ resources: { DATASET: 2 } });
    expect(change({})).toEqual({});
    expect(() => change({ maxActorTaskCount: 1, resources: { ACTOR_TASK: 2 } })).toThrow(AppError);
    expect(updateLimitsBody.safeParse({ maxMonthlyUsageUsd: 5 }).success).toBe(false);
  });

  it('takes real calendar dates only', () => {
    expect(calendarDate.safeParse('2024-02-29').success).toBe(true);
    for (const bad of ['2023-02-29', '2024-13-01', '2024-2-1', 'today', '2024-02-10T00:00:00Z', '0001-01-01'])
      expect(calendarDate.safeParse(bad).success).toBe(false);
  });
});
