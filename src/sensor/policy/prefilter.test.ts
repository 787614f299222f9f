import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { RE2JS } from "@bufbuild/re2";
import { matchNeeds, patternShape } from "./prefilter.js";

describe("patterns read ahead", () => {
  test("the plain pieces of an anchored pattern, as far as they go", () => {
    assert.deepEqual(patternShape("^/home/[^/]+/\\.ssh/id_[^/]+$"), [
      "/home/",
      { segment: "+" },
      "/.ssh/id_",
      { segment: "+" },
      { end: true },
    ]);
    assert.deepEqual(patternShape("^/root/\\.ssh/authorized_keys2?$"), ["/root/.ssh/authorized_keys"]);
    assert.deepEqual(patternShape("^/etc/rc[0-6S]\\.d/"), ["/etc/rc"]);
    assert.deepEqual(patternShape("^/a/[^/]*\\/b"), ["/a/", { segment: "*" }, "/b"]);
    // A run not followed by '/' or the end could stop anywhere: reading stops before it.
    assert.deepEqual(patternShape("^/a/[^/]+\\.conf$"), ["/a/"]);
    assert.deepEqual(patternShape("^/x$"), ["/x", { end: true }]);
    assert.deepEqual(patternShape("^(/a|/b)"), undefined);
    assert.deepEqual(patternShape("/a"), undefined);
    assert.deepEqual(patternShape("^.*"), []);
  });

  test("a string RE2 matches always passes the test read ahead", () => {
    const patterns = [
      "^/home/[^/]+/\\.ssh/id_[^/]+$",
      "^/home/[^/]*/\\.config/",
      "^/root/\\.ssh/authorized_keys2?$",
      "^/etc/rc[0-6S]\\.d/",
      "^/a/[^/]+$",
      "^/a/[^/]+\\.conf$",
      "^/x$",
      "^/x",
      "/node[0-9.]+$",
      "/python[0-9.]*",
      "ab*c",
      "^a+b",
      "^\\Qa.b\\E",
      "^a\\.b",
      "a|^b",
      "(?i)^/etc/",
      "^(?i)/etc/",
      "^/é/[^/]+$",
      "^",
      "$",
    ];
    const parts = [
      "",
      "/",
      "a",
      "b",
      "c",
      "x",
      ".",
      "/home/",
      "/root/",
      ".ssh/",
      "id_",
      "/etc/",
      "rc3.d",
      "S",
      "2",
      "é",
      "\n",
    ];
    const strings = new Set<string>([
      "/home/a/.ssh/id_rsa",
      "/home//.ssh/id_rsa",
      "/home/a\n/.ssh/id_rsa",
      "/home/a/.config/x",
      "/root/.ssh/authorized_keys2",
      "/etc/rc3.d/x",
      "/a/x.conf",
      "/usr/bin/node18.1",
      "/usr/bin/python3.11",
      "/ETC/x",
      "a.b",
      "/é/x",
    ]);
    let seed = 5;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let i = 0; i < 4000; i++) {
      const length = 1 + Math.floor(random() * 6);
      strings.add(Array.from({ length }, () => parts[Math.floor(random() * parts.length)]).join(""));
    }
    for (const pattern of patterns) {
      const re2 = RE2JS.compile(pattern);
      const ahead = matchNeeds(pattern);
      if (ahead === null) continue;
      let matched = 0;
      let refused = 0;
      for (const s of strings) {
        if (re2.test(s)) {
          matched++;
          assert.ok(ahead(s), `${JSON.stringify(s)} matches ${pattern} but fails the test read ahead`);
        } else if (!ahead(s)) refused++;
      }
      assert.ok(matched > 0 && refused > 0, `${pattern}: ${matched} matched, ${refused} refused ahead`);
    }
  });
});
