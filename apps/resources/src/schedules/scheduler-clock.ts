import { Injectable } from '@nestjs/common';

/**
 * "Now" for the scheduler: when a schedule is due, the tick a firing is for, its next run. Every
 * query compares with this time as a parameter (never the database's `now()`), so that a test can
 * move a replica's clock over minutes of ticks without waiting for them.
 */
@Injectable()
export class SchedulerClock {
  now(): Date {
    return new Date();
  }
}
