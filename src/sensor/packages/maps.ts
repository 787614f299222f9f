/**
 * The files a process has mapped, from its /proc/<pid>/maps: the path column of every line
 * that has one, each once. Pseudo-mappings ([heap], [vdso]) and anonymous ones have none; a
 * file deleted since it was mapped is marked " (deleted)" and left out, its metadata is gone.
 */
export function mappedFiles(maps: string): string[] {
  const files = new Set<string>();
  for (const line of maps.split("\n")) {
    // address perms offset dev inode, then spaces, then the path (which may contain spaces).
    const slash = line.indexOf(" /");
    if (slash < 0) continue;
    const path = line.slice(slash + 1).trimStart();
    if (path.endsWith(" (deleted)")) continue;
    files.add(path);
  }
  return [...files];
}
