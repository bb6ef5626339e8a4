import { useMutation } from '@tanstack/react-query';
import type { UseFormReturnType } from '@mantine/form';
import { ApiError } from './api';

/** What a person reads for a failure: the API's message, never a stack or a raw object. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof TypeError && /fetch|network/i.test(error.message))
    return 'Atrium could not be reached; check your connection and try again';
  return 'Something went wrong; try again';
}

/**
 * Submits a form through the API: the API's message goes next to the field it names
 * (`Field "body.name" is invalid: …`), else above the form (`formError`).
 */
export function useApiForm<Values extends Record<string, unknown>, Result>(
  form: UseFormReturnType<Values>,
  submit: (values: Values) => Promise<Result>,
  onSuccess?: (result: Result, values: Values) => void,
) {
  const mutation = useMutation({
    mutationFn: submit,
    onSuccess: (result, values) => onSuccess?.(result, values),
    onError: (error) => {
      const field = error instanceof ApiError ? error.field : undefined;
      const key = field?.split('.')[0];
      if (key && key in form.getValues())
        form.setFieldError(
          key,
          error instanceof ApiError
            ? error.message.replace(/^Field "[^"]+" (is invalid: )?/, '')
            : errorMessage(error),
        );
    },
  });
  const error = mutation.error;
  const fieldKey = error instanceof ApiError ? error.field?.split('.')[0] : undefined;
  return {
    onSubmit: form.onSubmit((values) => mutation.mutate(values)),
    pending: mutation.isPending,
    /** A failure no field of the form explains, for an Alert above the form. */
    formError: error && !(fieldKey && fieldKey in form.getValues()) ? errorMessage(error) : undefined,
    reset: mutation.reset,
  };
}
