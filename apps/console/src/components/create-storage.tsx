import { Alert, Button, Menu, Modal, Stack, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useNavigate } from 'react-router';
import { api, data } from '../lib/api';
import { useApiForm } from '../lib/forms';
import { paths } from '../lib/paths';

const KINDS = {
  dataset: { label: 'Dataset', to: paths.dataset },
  keyValueStore: { label: 'Key-value store', to: paths.keyValueStore },
  requestQueue: { label: 'Request queue', to: paths.requestQueue },
  actor: { label: 'Actor', to: paths.actor },
  app: { label: 'App', to: paths.app },
} as const;
type Kind = keyof typeof KINDS;

function create(kind: Kind, name: string): Promise<{ id: string }> {
  const params = { query: { name } };
  if (kind === 'dataset') return data(api.POST('/v2/datasets', { params }));
  if (kind === 'keyValueStore') return data(api.POST('/v2/key-value-stores', { params }));
  if (kind === 'actor') return data(api.POST('/v2/acts', { body: { name } }));
  if (kind === 'app') return data(api.POST('/v2/apps', { body: { name } }));
  return data(api.POST('/v2/request-queues', { params }));
}

function CreateForm({ kind, onDone }: { kind: Kind; onDone: () => void }) {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const form = useForm({ initialValues: { name: '' } });
  const { onSubmit, pending, formError } = useApiForm(
    form,
    (values) => create(kind, values.name.trim()),
    (created) => {
      void queryClient.invalidateQueries({ queryKey: ['home'] });
      onDone();
      void navigate(KINDS[kind].to(created.id));
    },
  );
  return (
    <form onSubmit={onSubmit} noValidate>
      <Stack>
        {formError && (
          <Alert color="red" role="alert">
            {formError}
          </Alert>
        )}
        <TextInput
          label="Name"
          description="Letters, digits and hyphens; unique among your resources of this type."
          required
          data-autofocus
          {...form.getInputProps('name')}
        />
        <Button type="submit" loading={pending}>
          Create {KINDS[kind].label.toLowerCase()}
        </Button>
      </Stack>
    </form>
  );
}

/** "Create" menu: a named dataset, key-value store, request queue, Actor or app, then its page. */
export function CreateStorageMenu() {
  const [kind, setKind] = useState<Kind>();
  return (
    <>
      <Menu position="bottom-end">
        <Menu.Target>
          <Button>Create</Button>
        </Menu.Target>
        <Menu.Dropdown>
          {(Object.keys(KINDS) as Kind[]).map((k) => (
            <Menu.Item key={k} onClick={() => setKind(k)}>
              {KINDS[k].label}
            </Menu.Item>
          ))}
        </Menu.Dropdown>
      </Menu>
      <Modal
        opened={!!kind}
        onClose={() => setKind(undefined)}
        closeButtonProps={{ 'aria-label': 'Close' }}
        title={kind ? `New ${KINDS[kind].label.toLowerCase()}` : ''}
      >
        {kind && <CreateForm kind={kind} onDone={() => setKind(undefined)} />}
      </Modal>
    </>
  );
}
