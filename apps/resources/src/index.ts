export { ResourcesModule } from './resources.module';
export { resourcesDataSourceOptions } from './database/resources.data-source';
// Tests move a replica's scheduler clock and fire what is due at once.
export { SchedulerClock } from './schedules/scheduler-clock';
export { ScheduleFirer } from './schedules/schedule-firer';
