/**
 * Media for posts: uploaded as the file's own bytes (POST /api/media takes no JSON and no multipart; the server
 * sniffs the type), shown back from GET /api/media/{id} with the session cookie.
 */
import { apiCredentials, apiUrl, ApiError } from '$lib/api';

export interface Media {
  id: string;
  kind: 'image' | 'gif' | 'video';
  mime: string;
  size: number;
}

export async function uploadMedia(file: File): Promise<Media> {
  let response: Response;
  try {
    response = await fetch(apiUrl('/api/media'), {
      method: 'POST',
      credentials: apiCredentials,
      headers: { accept: 'application/json', 'content-type': file.type || 'application/octet-stream' },
      body: file,
    });
  } catch {
    throw new ApiError(0, 'network', 'The server could not be reached. Check your connection and try again.');
  }
  const data = (await response.json().catch(() => null)) as (Media & { error?: { code: string; message: string } }) | null;
  if (!response.ok) throw new ApiError(response.status, data?.error?.code ?? 'http_error', `${file.name}: ${data?.error?.message ?? `the server answered ${response.status}`}`);
  return data as Media;
}

export const mediaUrl = (id: string) => apiUrl(`/api/media/${encodeURIComponent(id)}`);
