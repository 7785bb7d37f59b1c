/** The problems `loadConfig` reports for an environment (empty when it loads). */
import { ConfigError, loadConfig } from '../../supervisor/config.js';

export function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}
