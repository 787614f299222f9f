export { DpkgDatabase, isSharedLibrary, parseDpkgStatus } from "./dpkg.js";
export {
  GO_BUILDINFO_MAGIC,
  type GoBuildInfo,
  parseGoBuildInfo,
  parseModuleInfo,
  readGoBuildInfo,
} from "./go-buildinfo.js";
export { DEFAULT_PACKAGE_PREFIXES, packageInterest } from "./interest.js";
export {
  DEFAULT_PACKAGE_LIMITS,
  type LoadedPackage,
  PackageInventory,
  type PackageInventoryOptions,
  type PackageInventoryStatistics,
  type PackageLimits,
  type PackageProcess,
  packageFile,
} from "./inventory.js";
export { isJavaArchive, parseManifest, parseProperties, readJavaArchive } from "./java.js";
export { mappedFiles } from "./maps.js";
export { nodePackageDir, readNodePackage } from "./node.js";
export { type Ecosystem, type PackageId, PackageMetadataError, packageKey } from "./package.js";
export { parseCoreMetadata, pythonFile, readPythonSite } from "./python.js";
