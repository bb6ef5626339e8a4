/** The collections whose resources have a Share dialog (`/v2/{collection}/:id/access`). */
export type ShareableCollection =
  | 'acts'
  | 'actor-tasks'
  | 'actor-runs'
  | 'actor-builds'
  | 'schedules'
  | 'datasets'
  | 'key-value-stores'
  | 'request-queues'
  | 'environments'
  | 'environment-groups'
  | 'apps';

export interface ShareButtonProps {
  collection: ShareableCollection;
  id: string;
  /** The resource's name, for the dialog's title. */
  name?: string;
}

/** Opens the Share dialog of one resource (implemented in share-dialog.tsx). */
export function ShareButton(props: ShareButtonProps) {
  void props;
  return null;
}
