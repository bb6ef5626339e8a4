import { healthRequest, HealthResponse, rpc } from './rpc-route';

export const IssuesRpc = {
  health: rpc<HealthResponse>()('issues', 'issues.health', healthRequest),
} as const;
