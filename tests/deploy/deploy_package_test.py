"""Builds the statsdash .deb with cpack and checks what is inside it.

Usage: deploy_package_test.py BUILD_DIR SOURCE_DIR CMAKE CPACK PROGRAM...

PROGRAM is the built path of every executable that has a target in this
build. The test is skipped (exit status 77) when the build has no CPack
configuration or when a program has not been built. The systemd units are
checked with `systemd-analyze verify` when systemd-analyze is installed.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

SKIP = 77
BUILD_DIR, SOURCE_DIR, CMAKE, CPACK = sys.argv[1:5]
PROGRAMS = sys.argv[5:]

UNITS = [
    "statsdash-broker.service",
    "statsdash-worker-ga@.service",
    "statsdash-worker-youtube@.service",
    "statsdash-aggregator@.service",
    "statsdash-reporter@.service",
    "statsdash-scheduler.service",
    "statsdash-scheduler-once.service",
    "statsdash-scheduler.timer",
]
# Instances that systemd-analyze verifies: a template unit needs a name.
UNITS_TO_VERIFY = [
    "statsdash-broker.service",
    "statsdash-worker-ga@1.service",
    "statsdash-worker-youtube@1.service",
    "statsdash-aggregator@0.service",
    "statsdash-reporter@1.service",
    "statsdash-scheduler.service",
    "statsdash-scheduler-once.service",
    "statsdash-scheduler.timer",
]
SERVICE_PROGRAMS = [
    "statsdash-broker",
    "statsdash-worker-ga",
    "statsdash-worker-youtube",
    "statsdash-aggregator",
    "statsdash-reporter",
    "statsdash-scheduler",
]


def run(*args, **kwargs):
    return subprocess.run(args, capture_output=True, text=True, timeout=240, check=False,
                          **kwargs)


def build_package(folder):
    """Installs the build into folder/stage, packages it with cpack and
    returns the path of the .deb.

    cpack's own install step first builds every target of the tree, so the
    test installs with `cmake --install` (which builds nothing) and hands
    cpack the staged tree. The CPack settings (control fields, maintainer
    scripts, dependencies) are the ones of the build's CPackConfig.cmake.
    """
    stage = os.path.join(folder, "stage")
    result = run(CMAKE, "--install", BUILD_DIR, "--prefix", "/usr",
                 env=dict(os.environ, DESTDIR=stage))
    if result.returncode != 0:
        raise AssertionError(f"cmake --install failed:\n{result.stdout}\n{result.stderr}")
    result = run(CPACK, "-G", "DEB", "--config", os.path.join(BUILD_DIR, "CPackConfig.cmake"),
                 "-B", os.path.join(folder, "out"),
                 "-D", "CPACK_INSTALL_CMAKE_PROJECTS=",
                 "-D", f"CPACK_INSTALLED_DIRECTORIES={stage};.",
                 "-D", "CPACK_PACKAGING_INSTALL_PREFIX=/")
    if result.returncode != 0:
        raise AssertionError(f"cpack failed:\n{result.stdout}\n{result.stderr}")
    out = os.path.join(folder, "out")
    debs = [name for name in os.listdir(out) if name.endswith(".deb")]
    if len(debs) != 1:
        raise AssertionError(f"expected one .deb in {out}, found {debs}")
    return os.path.join(out, debs[0])


def parse_listing(text):
    """Maps each path of `dpkg-deb -c` output to (mode string, owner)."""
    entries = {}
    for line in text.splitlines():
        fields = line.split(None, 5)
        path = fields[5].split(" -> ")[0]
        entries[path.lstrip(".")] = (fields[0], fields[1])
    return entries


class PackageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.folder = tempfile.mkdtemp(prefix="sd-deploy-")
        cls.deb = build_package(cls.folder)
        cls.listing = parse_listing(run("dpkg-deb", "-c", cls.deb).stdout)
        cls.info = run("dpkg-deb", "-I", cls.deb).stdout
        cls.root = os.path.join(cls.folder, "root")
        result = run("dpkg-deb", "-x", cls.deb, cls.root)
        if result.returncode != 0:
            raise AssertionError(f"dpkg-deb -x failed: {result.stderr}")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.folder)

    def test_programs_in_usr_bin(self):
        for program in PROGRAMS:
            path = "/usr/bin/" + os.path.basename(program)
            with self.subTest(path=path):
                self.assertIn(path, self.listing)
                mode, owner = self.listing[path]
                self.assertEqual(mode, "-rwxr-xr-x")
                self.assertEqual(owner, "root/root")

    def test_cli_runs_from_package(self):
        cli = os.path.join(self.root, "usr/bin/statsdash")
        result = run(cli, "--version")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertTrue(result.stdout.startswith("statsdash "), result.stdout)

    def test_units_in_lib_systemd(self):
        for unit in UNITS:
            path = "/lib/systemd/system/" + unit
            with self.subTest(path=path):
                self.assertIn(path, self.listing)
                self.assertEqual(self.listing[path][0], "-rw-r--r--")

    def test_example_config_and_conffile(self):
        with open(os.path.join(SOURCE_DIR, "deploy/statsdash.example.json"), "rb") as file:
            example = file.read()
        for path in ["usr/share/doc/statsdash/statsdash.example.json",
                     "etc/statsdash/statsdash.json"]:
            with self.subTest(path=path):
                with open(os.path.join(self.root, path), "rb") as file:
                    self.assertEqual(file.read(), example)
        result = run("dpkg-deb", "-I", self.deb, "conffiles")
        self.assertEqual(result.stdout.split(), ["/etc/statsdash/statsdash.json"])

    def test_deploy_guide_installed(self):
        self.assertIn("/usr/share/doc/statsdash/deploy.md", self.listing)

    def test_templates_installed_when_present(self):
        templates = os.path.join(SOURCE_DIR, "reporter/templates")
        if not os.path.isdir(templates):
            self.skipTest("reporter/templates/ does not exist yet")
        for name in os.listdir(templates):
            if os.path.isfile(os.path.join(templates, name)):
                self.assertIn("/usr/share/statsdash/templates/" + name, self.listing)

    def test_control_fields(self):
        fields = {}
        for line in self.info.splitlines():
            name, _, value = line.strip().partition(":")
            if value and " " not in name:
                fields[name] = value.strip()
        self.assertEqual(fields.get("Package"), "statsdash")
        depends = [item.strip().split()[0] for item in fields.get("Depends", "").split(",")]
        self.assertIn("adduser", depends)
        # dpkg-shlibdeps adds the libraries every program links.
        self.assertIn("libczmq4", depends)
        self.assertIn("libzmq5", depends)
        self.assertIn("libc6", depends)

    def test_maintainer_scripts(self):
        for script in ["postinst", "prerm", "postrm"]:
            with self.subTest(script=script):
                result = run("dpkg-deb", "-I", self.deb, script)
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertTrue(result.stdout.startswith("#!/bin/sh"))
                syntax = run("sh", "-n", input=result.stdout)
                self.assertEqual(syntax.returncode, 0, syntax.stderr)
        postinst = run("dpkg-deb", "-I", self.deb, "postinst").stdout
        self.assertIn("adduser --system", postinst)

    def test_units_verify(self):
        analyze = shutil.which("systemd-analyze")
        if not analyze:
            self.skipTest("systemd-analyze is not installed, so the units were not verified")
        # systemd-analyze --root needs the system's own units (sysinit.target,
        # ...) under the root as well as ours.
        unit_dir = os.path.join(self.root, "lib/systemd/system")
        for name in os.listdir("/lib/systemd/system"):
            target = os.path.join(unit_dir, name)
            source = os.path.join("/lib/systemd/system", name)
            if not os.path.exists(target) and os.path.isfile(source):
                shutil.copy(source, target)
        # A service whose program is not built yet gets a stand-in, so that
        # verify checks the unit and not the build.
        for program in SERVICE_PROGRAMS:
            path = os.path.join(self.root, "usr/bin", program)
            if not os.path.exists(path):
                print(f"note: {program} is not built; verifying its unit with a stand-in",
                      file=sys.stderr)
                shutil.copy("/bin/true", path)
        result = run(analyze, "verify", "--root=" + self.root, *UNITS_TO_VERIFY)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stderr.strip(), "")


def main():
    if not os.path.exists(os.path.join(BUILD_DIR, "CPackConfig.cmake")):
        print("skipped: this build has no CPackConfig.cmake; the top-level CMakeLists.txt "
              "must include deploy/cpack.cmake", file=sys.stderr)
        return SKIP
    missing = [program for program in PROGRAMS if not os.path.exists(program)]
    if missing:
        print(f"skipped: not built yet: {', '.join(missing)}", file=sys.stderr)
        return SKIP
    for tool in ["dpkg-deb", "dpkg-shlibdeps"]:
        if not shutil.which(tool):
            print(f"deploy_package: {tool} is not installed; install the Debian package "
                  "dpkg-dev", file=sys.stderr)
            return 1
    program = unittest.main(argv=[sys.argv[0]], exit=False, verbosity=2)
    return 0 if program.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
