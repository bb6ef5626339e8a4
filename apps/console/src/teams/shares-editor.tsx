import { ActionIcon, Button, Group, MultiSelect, Select, Stack, Text } from '@mantine/core';

/** One shared item being edited: `category:ENVIRONMENTS`, `group:<id>` or `env:<id>`, with roles. */
export interface ShareRow {
  target: string;
  roleIds: string[];
}

export interface ShareBody {
  resourceId?: string;
  groupId?: string;
  category?: 'ENVIRONMENTS';
  roleIds: string[];
}

export function toShareBody(rows: ShareRow[]): ShareBody[] {
  return rows
    .filter((row) => row.target)
    .map(({ target, roleIds }) => {
      const [kind, id] = target.split(':');
      if (kind === 'category') return { category: 'ENVIRONMENTS' as const, roleIds };
      return kind === 'group' ? { groupId: id, roleIds } : { resourceId: id, roleIds };
    });
}

export function toShareRows(
  items: { resourceId?: string; groupId?: string; category?: string; roleIds: string[] }[],
): ShareRow[] {
  return items.map((item) => ({
    target: item.category
      ? `category:${item.category}`
      : item.groupId
        ? `group:${item.groupId}`
        : `env:${item.resourceId}`,
    roleIds: item.roleIds,
  }));
}

/**
 * What a collaboration member gets: per environment, per group, or the whole ENVIRONMENTS
 * category, each with one or more roles.
 */
export function SharesEditor({
  value,
  onChange,
  environments,
  groups,
  roles,
  error,
}: {
  value: ShareRow[];
  onChange: (rows: ShareRow[]) => void;
  environments: { id: string; name: string }[];
  groups: { id: string; name: string }[];
  roles: { id: string; name: string }[];
  error?: React.ReactNode;
}) {
  const targets = [
    {
      group: 'Category',
      items: [{ value: 'category:ENVIRONMENTS', label: 'All environments (ENVIRONMENTS)' }],
    },
    {
      group: 'Environment groups',
      items: groups.map((g) => ({ value: `group:${g.id}`, label: `Group ${g.name}` })),
    },
    { group: 'Environments', items: environments.map((e) => ({ value: `env:${e.id}`, label: e.name })) },
  ].filter((g) => g.items.length > 0);
  const roleOptions = roles.map((role) => ({ value: role.id, label: role.name }));
  const update = (index: number, change: Partial<ShareRow>) =>
    onChange(value.map((row, i) => (i === index ? { ...row, ...change } : row)));
  return (
    <Stack gap="xs">
      <Text fw={500} size="sm">
        Shared items
      </Text>
      {value.length === 0 && <Text size="sm">Nothing shared yet.</Text>}
      {value.map((row, index) => (
        <Group key={index} align="flex-end">
          <Select
            label={`Shared item ${index + 1}`}
            data={targets}
            value={row.target || null}
            onChange={(target) => update(index, { target: target ?? '' })}
            w={280}
            searchable
          />
          <MultiSelect
            label={`Roles on item ${index + 1}`}
            data={roleOptions}
            value={row.roleIds}
            onChange={(roleIds) => update(index, { roleIds })}
            w={280}
          />
          <ActionIcon
            variant="light"
            color="red"
            size="lg"
            aria-label={`Remove shared item ${index + 1}`}
            onClick={() => onChange(value.filter((_, i) => i !== index))}
          >
            ×
          </ActionIcon>
        </Group>
      ))}
      {error && (
        <Text c="red" size="sm" role="alert">
          {error}
        </Text>
      )}
      <Group>
        <Button variant="light" size="xs" onClick={() => onChange([...value, { target: '', roleIds: [] }])}>
          Add a shared item
        </Button>
      </Group>
    </Stack>
  );
}
