import { rawFetch } from './api';

/** The file name a `content-disposition: attachment; filename="…"` header gives, if any. */
export function attachmentName(response: Response): string | undefined {
  const header = response.headers.get('content-disposition') ?? '';
  const star = /filename\*=UTF-8''([^;]+)/i.exec(header)?.[1];
  if (star) return decodeURIComponent(star);
  return /filename="?([^";]+)"?/i.exec(header)?.[1];
}

/** Saves a blob as a file through a temporary object URL (nothing inline; the CSP allows blob:). */
export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * Downloads an API path with the session (a plain link would go without the access token, which
 * lives in memory only): fetched, then saved under the name the API gives or `fallback`.
 */
export async function downloadWithSession(path: string, fallback: string): Promise<void> {
  const response = await rawFetch(path);
  saveBlob(await response.blob(), attachmentName(response) ?? fallback);
}
