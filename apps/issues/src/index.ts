export { IssuesModule } from './issues.module';
export { issuesDataSourceOptions } from './database/issues.data-source';
