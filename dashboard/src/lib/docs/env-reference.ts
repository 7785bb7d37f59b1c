/**
 * The configuration reference, read from the repository's .env.example (the list of every variable the server
 * reads, with its default) so the docs page cannot fall behind it. A variable's description is the comment block
 * right above it.
 */
export interface EnvVariable {
  name: string;
  defaultValue: string;
  description: string;
}

export function parseEnvExample(text: string): EnvVariable[] {
  const variables: EnvVariable[] = [];
  let comments: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#')) {
      comments.push(line.replace(/^#\s?/, ''));
    } else if (line === '') {
      comments = [];
    } else {
      const eq = line.indexOf('=');
      if (eq > 0) variables.push({ name: line.slice(0, eq), defaultValue: line.slice(eq + 1), description: comments.join(' ') });
      comments = [];
    }
  }
  return variables;
}
