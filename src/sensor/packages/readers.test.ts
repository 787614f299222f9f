import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { DpkgDatabase, isSharedLibrary, parseDpkgStatus } from "./dpkg.js";
import { dpkgDatabase, goBinary, jar, nodePackage, put, pythonDist } from "./fixtures.js";
import { parseModuleInfo, readGoBuildInfo } from "./go-buildinfo.js";
import { readJavaArchive } from "./java.js";
import { mappedFiles } from "./maps.js";
import { nodePackageDir, readNodePackage } from "./node.js";
import type { PackageMetadataError } from "./package.js";
import { parseCoreMetadata, pythonFile, readPythonSite } from "./python.js";

const dir = mkdtempSync(join(tmpdir(), "vigil-packages-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("python", () => {
  test("a file below a site directory names its site and top-level name", () => {
    assert.deepEqual(pythonFile("/usr/lib/python3/dist-packages/yaml/__pycache__/x.cpython-311.pyc"), {
      site: "/usr/lib/python3/dist-packages/",
      top: "yaml",
    });
    assert.deepEqual(pythonFile("/v/lib/python3.11/site-packages/__pycache__/six.cpython-311.pyc"), {
      site: "/v/lib/python3.11/site-packages/",
      top: "six.py",
    });
    assert.equal(pythonFile("/usr/lib/python3.11/os.py"), undefined);
    assert.equal(pythonFile("/v/site-packages/attrs-23.1.0.dist-info/METADATA"), undefined);
  });

  test("RECORD maps every top-level name to its distribution; top_level.txt when there is no RECORD", async () => {
    const site = join(dir, "py/lib/python3.11/site-packages/");
    pythonDist(site, "PyYAML", "6.0.1", ["yaml/__init__.py", "yaml/cyaml.py", "_yaml/__init__.py"]);
    pythonDist(site, "six", "1.16.0", ["six.py"]);
    pythonDist(site, "old-style", "0.3", ["oldstyle/__init__.py"], false);
    const problems: PackageMetadataError[] = [];
    const tops = await readPythonSite("", site, (e) => problems.push(e));
    assert.deepEqual(problems, []);
    assert.deepEqual(tops.get("yaml"), { ecosystem: "python", name: "PyYAML", version: "6.0.1" });
    assert.deepEqual(tops.get("_yaml"), { ecosystem: "python", name: "PyYAML", version: "6.0.1" });
    assert.deepEqual(tops.get("six.py"), { ecosystem: "python", name: "six", version: "1.16.0" });
    assert.deepEqual(tops.get("oldstyle"), { ecosystem: "python", name: "old-style", version: "0.3" });
    assert.equal(tops.has(".."), false);
  });

  test("a distribution with corrupt metadata is named with its file and left out; the others are read", async () => {
    const site = join(dir, "py-bad/site-packages/");
    pythonDist(site, "good", "1.0", ["good/__init__.py"]);
    put(site, "broken-2.0.dist-info/METADATA", "Metadata-Version: 2.1\nSummary: no name here\n");
    put(site, "gone-1.0.dist-info/RECORD", "gone/__init__.py,,\n");
    const problems: PackageMetadataError[] = [];
    const tops = await readPythonSite("", site, (e) => problems.push(e));
    assert.deepEqual(problems.map((p) => [p.file.slice(site.length), p.problem]).sort(), [
      ["broken-2.0.dist-info/METADATA", "no Name header"],
      ["gone-1.0.dist-info/METADATA", "missing"],
    ]);
    assert.equal(tops.get("good")?.version, "1.0");
    assert.throws(() => parseCoreMetadata("Name: x\n", "M"), /M: no Version header/);
  });
});

describe("node", () => {
  test("the package directory is the innermost node_modules entry, scoped or not", () => {
    assert.equal(nodePackageDir("/app/node_modules/yaml/dist/index.js"), "/app/node_modules/yaml/");
    assert.equal(
      nodePackageDir("/app/node_modules/@scope/pkg/node_modules/dep/lib/a.js"),
      "/app/node_modules/@scope/pkg/node_modules/dep/",
    );
    assert.equal(nodePackageDir("/app/node_modules/@scope/pkg/x.js"), "/app/node_modules/@scope/pkg/");
    assert.equal(nodePackageDir("/app/node_modules/.bin/tsc"), undefined);
    assert.equal(nodePackageDir("/app/node_modules/yaml"), undefined);
  });

  test("name and version come from package.json; a corrupt one is named", async () => {
    const modules = join(dir, "app/node_modules/");
    nodePackage(modules, "@scope/pkg", "2.3.4");
    assert.deepEqual(await readNodePackage("", `${modules}@scope/pkg/`), {
      ecosystem: "npm",
      name: "@scope/pkg",
      version: "2.3.4",
    });
    put(modules, "bad/package.json", "{ not json");
    await assert.rejects(readNodePackage("", `${modules}bad/`), (e: PackageMetadataError) => {
      assert.equal(e.file, `${modules}bad/package.json`);
      assert.match(e.problem, /^not JSON/);
      return true;
    });
    await assert.rejects(readNodePackage("", `${modules}none/`), /none\/package.json: ENOENT/);
  });
});

describe("java", () => {
  test("pom.properties gives Maven coordinates, every one of a shaded jar", async () => {
    const file = await jar(join(dir, "lib/app-all.jar"), {
      "META-INF/MANIFEST.MF": "Manifest-Version: 1.0\nImplementation-Title: app\nImplementation-Version: 9\n",
      "META-INF/maven/com.example/app/pom.properties":
        "#Generated\ngroupId=com.example\nartifactId=app\nversion=1.2.3\n",
      "META-INF/maven/org.yaml/snakeyaml/pom.properties": "groupId=org.yaml\nartifactId=snakeyaml\nversion=2.2\n",
    });
    assert.deepEqual((await readJavaArchive(file)).map((p) => `${p.name}@${p.version}`).sort(), [
      "com.example:app@1.2.3",
      "org.yaml:snakeyaml@2.2",
    ]);
  });

  test("without pom.properties the manifest's Implementation or Bundle headers, continuation lines joined", async () => {
    const impl = await jar(join(dir, "lib/impl.jar"), {
      "META-INF/MANIFEST.MF":
        "Manifest-Version: 1.0\r\nImplementation-Title: a-very-long-title-that-the-\r\n jar-tool-folded\r\nImplementation-Version: 4.5\r\n\r\nName: x\r\n",
    });
    assert.deepEqual(await readJavaArchive(impl), [
      { ecosystem: "maven", name: "a-very-long-title-that-the-jar-tool-folded", version: "4.5" },
    ]);
    const osgi = await jar(join(dir, "lib/osgi.jar"), {
      "META-INF/MANIFEST.MF": "Bundle-SymbolicName: org.example.b;singleton:=true\nBundle-Version: 1.0.0.v2024\n",
    });
    assert.deepEqual(await readJavaArchive(osgi), [
      { ecosystem: "maven", name: "org.example.b", version: "1.0.0.v2024" },
    ]);
    assert.deepEqual(await readJavaArchive(await jar(join(dir, "lib/none.jar"), {})), []);
  });

  test("a file that is not a zip archive is named with the problem", async () => {
    const file = put(dir, "lib/fake.jar", "this is not a zip file at all, though it is long enough to look");
    await assert.rejects(readJavaArchive(file), (e: PackageMetadataError) => {
      assert.equal(e.file, file);
      assert.match(e.problem, /^not a readable zip archive: End of central directory record signature not found/);
      return true;
    });
  });
});

describe("go build info", () => {
  const modules = [
    "path\texample.com/app/cmd/server",
    "mod\texample.com/app\tv1.4.0\th1:abc=",
    "dep\tgithub.com/pkg/errors\tv0.9.1\th1:def=",
    "dep\tgolang.org/x/net\tv0.1.0\th1:ghi=",
    "=>\tgithub.com/fork/net\tv0.1.1-fixed\th1:jkl=",
    "build\t-compiler=gc",
  ];

  test("the module list of a binary with a .go.buildinfo section, replacements applied", async () => {
    const file = put(dir, "bin/server", goBinary("go1.22.5", modules));
    const info = await readGoBuildInfo(file);
    assert.deepEqual(info, {
      goVersion: "go1.22.5",
      main: { ecosystem: "go", name: "example.com/app", version: "v1.4.0" },
      deps: [
        { ecosystem: "go", name: "github.com/pkg/errors", version: "v0.9.1" },
        { ecosystem: "go", name: "github.com/fork/net", version: "v0.1.1-fixed" },
      ],
    });
  });

  test("without section headers, found at the start of the writable segment", async () => {
    const file = put(dir, "bin/stripped", goBinary("go1.21.0", modules, false));
    assert.equal((await readGoBuildInfo(file))?.deps.length, 2);
  });

  test("an ELF file that is not Go, and a file that is not ELF, have none; a cut one is named", async () => {
    assert.equal(await readGoBuildInfo("/bin/sh"), undefined);
    assert.equal(
      await readGoBuildInfo(put(dir, "bin/script", "#!/bin/sh\necho hi, this is long enough to read\n")),
      undefined,
    );
    const whole = goBinary("go1.22.5", modules, false);
    const cut = put(dir, "bin/cut", whole.subarray(0, 0x78 + 40));
    await assert.rejects(readGoBuildInfo(cut), /bin\/cut: Go build info cut short/);
    assert.deepEqual(parseModuleInfo("mod\tx\t(devel)\t\n").main, { ecosystem: "go", name: "x", version: "(devel)" });
  });
});

describe("dpkg", () => {
  test("the package owning a shared library, under either spelling of a merged /usr", async () => {
    const root = join(dir, "deb");
    dpkgDatabase(root, [
      { name: "zlib1g", version: "1:1.2.13.dfsg-1", arch: "amd64", files: ["/lib/x86_64-linux-gnu/libz.so.1.2.13"] },
      { name: "libyaml-0-2", version: "0.2.5-1", files: ["/usr/lib/x86_64-linux-gnu/libyaml-0.so.2.0.9"] },
    ]);
    const problems: PackageMetadataError[] = [];
    const db = new DpkgDatabase((e) => problems.push(e));
    assert.deepEqual(await db.owner(root, "r", "/usr/lib/x86_64-linux-gnu/libz.so.1.2.13"), {
      ecosystem: "deb",
      name: "zlib1g",
      version: "1:1.2.13.dfsg-1",
    });
    assert.equal((await db.owner(root, "r", "/usr/lib/x86_64-linux-gnu/libyaml-0.so.2.0.9"))?.name, "libyaml-0-2");
    assert.equal(await db.owner(root, "r", "/opt/vendor/libown.so"), undefined);
    assert.equal(db.reads, 1);
    assert.equal(await db.owner(join(dir, "no-dpkg"), "n", "/lib/libc.so.6"), undefined);
    assert.deepEqual(problems, []);
  });

  test("status: only installed packages, Multi-Arch: same ones also by name:arch", () => {
    const v = parseDpkgStatus(
      "Package: a\nStatus: install ok installed\nVersion: 1\n\nPackage: b\nStatus: deinstall ok config-files\nVersion: 2\n\nPackage: c\nStatus: install ok installed\nArchitecture: arm64\nMulti-Arch: same\nVersion: 3\n",
    );
    assert.deepEqual(
      [...v],
      [
        ["a", "1"],
        ["c", "3"],
        ["c:arm64", "3"],
      ],
    );
    assert.equal(isSharedLibrary("/usr/lib/libz.so.1.2.13"), true);
    assert.equal(isSharedLibrary("/usr/lib/x.cpython-311-x86_64-linux-gnu.so"), true);
    assert.equal(isSharedLibrary("/usr/share/doc/libz.so.txt"), false);
  });
});

test("maps: each mapped file once; pseudo and deleted mappings left out; spaces kept", () => {
  const maps = [
    "55d0a000-55d0b000 r--p 00000000 fe:01 123 /usr/bin/python3.11",
    "7f00-7f01 r-xp 00001000 fe:01 456 /usr/lib/x86_64-linux-gnu/libz.so.1.2.13",
    "7f01-7f02 r--p 00002000 fe:01 456 /usr/lib/x86_64-linux-gnu/libz.so.1.2.13",
    "7f02-7f03 rw-p 00000000 00:00 0 ",
    "7f03-7f04 rw-p 00000000 00:00 0                          [heap]",
    "7f04-7f05 r--p 00000000 fe:01 789                        /opt/my app/lib.so",
    "7f05-7f06 r--p 00000000 00:01 790 /memfd:x (deleted)",
  ].join("\n");
  assert.deepEqual(mappedFiles(maps), [
    "/usr/bin/python3.11",
    "/usr/lib/x86_64-linux-gnu/libz.so.1.2.13",
    "/opt/my app/lib.so",
  ]);
});
