/**
 * The console's addresses. The storage and run pages are the ones the API's `consoleUrl` points at
 * (`/storage/datasets/:id`, `/actors/runs/:id`); keep them in step with the gateway.
 */
export const paths = {
  home: '/',
  signIn: '/sign-in',
  signUp: '/sign-up',
  verifyEmail: '/verify-email',
  forgotPassword: '/forgot-password',
  resetPassword: '/reset-password',
  dataset: (id: string) => `/storage/datasets/${id}`,
  keyValueStore: (id: string) => `/storage/key-value-stores/${id}`,
  requestQueue: (id: string) => `/storage/request-queues/${id}`,
  actor: (id: string) => `/actors/${id}`,
  run: (id: string) => `/actors/runs/${id}`,
  build: (id: string) => `/actors/builds/${id}`,
  task: (id: string) => `/actors/tasks/${id}`,
  schedule: (id: string) => `/schedules/${id}`,
  issue: (id: string) => `/issues/${id}`,
  environment: (id: string) => `/environments/${id}`,
  environmentGroup: (id: string) => `/environment-groups/${id}`,
  app: (id: string) => `/apps/${id}`,
  settings: '/settings',
  organizations: '/organizations',
  organization: (id: string) => `/organizations/${id}`,
  invitations: '/invitations',
  collaboration: '/collaboration',
  collaborations: '/collaborations',
  notifications: '/notifications',
  auditLog: '/audit-log',
} as const;
