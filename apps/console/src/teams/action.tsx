import { Alert } from '@mantine/core';
import { useMutation, useQueryClient, type QueryKey } from '@tanstack/react-query';
import { errorMessage } from '../lib/forms';

/**
 * A button's request (accept, remove, suspend…): on success the listed queries are read again;
 * a refusal keeps the API's message for an `ActionError` next to the buttons.
 */
export function useAction<Input = void>(run: (input: Input) => Promise<unknown>, refresh: QueryKey[]) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: run,
    onSuccess: () => Promise.all(refresh.map((queryKey) => queryClient.invalidateQueries({ queryKey }))),
  });
}

export function ActionError({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <Alert color="red" role="alert">
      {errorMessage(error)}
    </Alert>
  );
}
