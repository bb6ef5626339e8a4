import { Button } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { useSession } from '../lib/session';
import { ShareDialog } from './share-dialog';
import type { ShareableCollection } from './share-model';

export type { ShareableCollection };

export interface ShareButtonProps {
  collection: ShareableCollection;
  id: string;
  /** The resource's name, for the dialog's title ("Share <name>"). */
  name?: string;
}

/**
 * Opens the Share dialog of one resource. Shown to signed-in users (an anonymous reader has
 * nothing to manage); whoever cannot manage access is told so inside the dialog.
 */
export function ShareButton({ collection, id, name }: ShareButtonProps) {
  const { user } = useSession();
  const [opened, { open, close }] = useDisclosure(false);
  if (!user) return null;
  return (
    <>
      <Button variant="default" onClick={open} aria-haspopup="dialog">
        Share
      </Button>
      <ShareDialog collection={collection} id={id} name={name} opened={opened} onClose={close} />
    </>
  );
}
