import { z } from "zod";
import { eventBase } from "./process.js";

/*
 * Events of the files domain. Paths are absolute: a relative argument is joined to the
 * directory it was resolved in (the cwd or the dirfd's file) and normalised lexically; an
 * absolute one is reported as passed. A path cut by the kernel's bounds (4095 bytes, 64
 * components) keeps its last components, has no leading '/', and sets its *_truncated flag.
 */

const syscall = z.string().describe('the system call: "openat", "unlinkat", "renameat2", ...');
const result = z.number().int().describe("the syscall's return: 0 or an fd on success, -errno on failure");
const error = z.string().nullable().describe('the errno name of a failed call ("ENOENT"), null on success');
const path = z.string().describe("absolute path");
const truncated = z.boolean().describe("the path was cut to the kernel's bounds");
const fd = z
  .number()
  .int()
  .nullable()
  .describe("the file descriptor of fchmod, fchown, ftruncate; null for the path calls");

export const FileOpenSchema = z.object({
  kind: z.literal("file.open"),
  ...eventBase,
  file: z.object({
    syscall,
    path: path.describe(
      "the file opened, as the kernel reached it (symlinks followed); for a failed open the requested path made absolute",
    ),
    path_truncated: truncated,
    requested: z.string().describe("the path argument as passed"),
    flags: z.number().int().describe("open flags (O_*) as passed; creat's are O_CREAT|O_WRONLY|O_TRUNC"),
    write: z
      .boolean()
      .describe("opened for writing or may change the file: O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_APPEND"),
    create: z.boolean().describe("O_CREAT"),
    truncate: z.boolean().describe("O_TRUNC"),
    mode: z.number().int().nullable().describe("mode for a new file (O_CREAT, O_TMPFILE), before the umask; else null"),
    inode: z.bigint().describe("inode of the file opened; 0 when the open failed"),
    dev: z.number().int().describe("its device (kernel encoding, as exec.dev); 0 when the open failed"),
    result,
    error,
  }),
});

export const FileUnlinkSchema = z.object({
  kind: z.literal("file.unlink"),
  ...eventBase,
  file: z.object({
    syscall,
    path,
    path_truncated: truncated,
    directory: z.boolean().describe("a directory removal: rmdir or unlinkat with AT_REMOVEDIR"),
    flags: z.number().int().describe("unlinkat's flags (AT_REMOVEDIR); 0 for unlink and rmdir"),
    result,
    error,
  }),
});

export const FileRenameSchema = z.object({
  kind: z.literal("file.rename"),
  ...eventBase,
  file: z.object({
    syscall,
    old_path: path,
    old_path_truncated: truncated,
    new_path: path,
    new_path_truncated: truncated,
    flags: z.number().int().describe("renameat2's RENAME_* flags; 0 for rename and renameat"),
    result,
    error,
  }),
});

export const FileChmodSchema = z.object({
  kind: z.literal("file.chmod"),
  ...eventBase,
  file: z.object({
    syscall,
    path: path.describe("the file's path; for fchmod the fd's file as the kernel reaches it"),
    path_truncated: truncated,
    fd,
    mode: z.number().int().describe("the new mode, permission and set-id bits"),
    flags: z.number().int().describe("fchmodat2's AT_* flags; 0 for the others"),
    result,
    error,
  }),
});

export const FileChownSchema = z.object({
  kind: z.literal("file.chown"),
  ...eventBase,
  file: z.object({
    syscall,
    path: path.describe("the file's path; for fchown the fd's file as the kernel reaches it"),
    path_truncated: truncated,
    fd,
    uid: z.number().int().describe("the new owner; -1 keeps it"),
    gid: z.number().int().describe("the new group; -1 keeps it"),
    flags: z.number().int().describe("fchownat's AT_* flags; 0 for the others (lchown does not follow a symlink)"),
    result,
    error,
  }),
});

export const FileLinkSchema = z.object({
  kind: z.literal("file.link"),
  ...eventBase,
  file: z.object({
    syscall,
    old_path: path.describe("the existing name"),
    old_path_truncated: truncated,
    new_path: path.describe("the new name"),
    new_path_truncated: truncated,
    flags: z.number().int().describe("linkat's AT_* flags; 0 for link"),
    result,
    error,
  }),
});

export const FileSymlinkSchema = z.object({
  kind: z.literal("file.symlink"),
  ...eventBase,
  file: z.object({
    syscall,
    target: z.string().describe("the link's content as passed, not resolved (it may name nothing)"),
    target_truncated: z.boolean(),
    path: path.describe("the link created"),
    path_truncated: truncated,
    result,
    error,
  }),
});

export const FileMkdirSchema = z.object({
  kind: z.literal("file.mkdir"),
  ...eventBase,
  file: z.object({
    syscall,
    path,
    path_truncated: truncated,
    mode: z.number().int().describe("mode as passed, before the umask"),
    result,
    error,
  }),
});

export const FileTruncateSchema = z.object({
  kind: z.literal("file.truncate"),
  ...eventBase,
  file: z.object({
    syscall,
    path: path.describe("the file's path; for ftruncate the fd's file as the kernel reaches it"),
    path_truncated: truncated,
    fd,
    length: z.bigint().describe("the length asked for, in bytes"),
    result,
    error,
  }),
});

/** Events of the files domain; each schema spreads eventBase from process.ts. */
export const fileEvents = [
  FileOpenSchema,
  FileUnlinkSchema,
  FileRenameSchema,
  FileChmodSchema,
  FileChownSchema,
  FileLinkSchema,
  FileSymlinkSchema,
  FileMkdirSchema,
  FileTruncateSchema,
] as const;
