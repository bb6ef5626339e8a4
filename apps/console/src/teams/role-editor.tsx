import { Alert, Button, Checkbox, Group, Paper, SimpleGrid, Stack, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useApiForm } from '../lib/forms';
import {
  emptyRolePermissions,
  permissionLabel,
  ROLE_CATEGORIES,
  ROLE_CATEGORY_LABELS,
  ROLE_CATEGORY_PERMISSIONS,
  type RolePermissions,
} from './permissions';

export interface RoleValues extends Record<string, unknown> {
  name: string;
  permissions: RolePermissions;
}

/**
 * An organization role's name and its permissions per category (ACTOR, ACTOR_TASK, SCHEDULE,
 * STORAGE, ORGANIZATION), one checkbox per permission the category can be given.
 */
export function RoleEditor({
  initial,
  submitLabel,
  save,
  onSaved,
  readOnly,
  idPrefix,
}: {
  initial?: { name: string; permissions: RolePermissions };
  submitLabel: string;
  save: (values: RoleValues) => Promise<unknown>;
  onSaved?: () => void;
  readOnly?: boolean;
  idPrefix: string;
}) {
  const form = useForm<RoleValues>({
    initialValues: {
      name: initial?.name ?? '',
      permissions: { ...emptyRolePermissions(), ...initial?.permissions },
    },
  });
  const { onSubmit, pending, formError } = useApiForm(form, save, () => {
    if (!initial) form.reset();
    onSaved?.();
  });
  return (
    <Paper withBorder p="md" component="form" onSubmit={onSubmit} noValidate>
      <Stack>
        {formError && (
          <Alert color="red" role="alert">
            {formError}
          </Alert>
        )}
        <TextInput
          label="Role name"
          required
          disabled={readOnly}
          id={`${idPrefix}-name`}
          {...form.getInputProps('name')}
        />
        <SimpleGrid cols={{ base: 1, sm: 3 }}>
          {ROLE_CATEGORIES.map((category) => (
            <Checkbox.Group
              key={category}
              label={ROLE_CATEGORY_LABELS[category]}
              value={form.getValues().permissions[category]}
              onChange={(value) => form.setFieldValue(`permissions.${category}`, value)}
              error={
                form.errors[`permissions.${category}`] ??
                (category === 'ACTOR' ? form.errors.permissions : undefined)
              }
            >
              <Stack gap={4} mt={4}>
                {ROLE_CATEGORY_PERMISSIONS[category].map((permission) => (
                  <Checkbox
                    key={permission}
                    value={permission}
                    label={permissionLabel(permission)}
                    disabled={readOnly}
                  />
                ))}
              </Stack>
            </Checkbox.Group>
          ))}
        </SimpleGrid>
        {!readOnly && (
          <Group>
            <Button type="submit" loading={pending}>
              {submitLabel}
            </Button>
          </Group>
        )}
      </Stack>
    </Paper>
  );
}
