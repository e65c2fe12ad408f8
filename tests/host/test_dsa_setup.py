# SPDX-License-Identifier: GPL-2.0
"""tools/dsa-setup against fake sysfs trees: a healthy one, and one per known
pitfall, each of which must be named in one line with its fix and give the
documented exit code; the healthy tree must give none of those lines."""

import os
import shutil
import subprocess
import tempfile
import unittest

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

HEALTHY = {
    "bus/dsa/drivers/idxd/bind": "",
    "bus/dsa/devices/dsa0/state": "enabled",
    "bus/dsa/devices/dsa0/numa_node": "0",
    "bus/dsa/devices/dsa0/pasid_enabled": "0",
    "bus/dsa/devices/dsa0/max_transfer_size": "2147483648",
    "bus/dsa/devices/dsa0/max_batch_size": "1024",
    "bus/dsa/devices/wq0.0/mode": "dedicated",
    "bus/dsa/devices/wq0.0/type": "kernel",
    "bus/dsa/devices/wq0.0/name": "migrate",
    "bus/dsa/devices/wq0.0/driver_name": "dmaengine",
    "bus/dsa/devices/wq0.0/state": "enabled",
    "bus/dsa/devices/wq0.0/size": "32",
    "bus/dsa/devices/wq0.0/max_transfer_size": "2097152",
    "bus/dsa/devices/wq0.0/max_batch_size": "32",
    "bus/dsa/devices/wq0.0/clients": "1",
    "bus/dsa/devices/wq0.1/mode": "shared",
    "bus/dsa/devices/wq0.1/type": "user",
    "bus/dsa/devices/wq0.1/name": "app",
    "bus/dsa/devices/wq0.1/driver_name": "user",
    "bus/dsa/devices/wq0.1/state": "disabled",
    "kernel/mm/migrate_copy/enabled": "true",
    "kernel/mm/migrate_copy/engine": "auto cpu [dsa]",
    "kernel/mm/migrate_copy/dsa/enabled": "1",
    "kernel/mm/migrate_copy/dsa/nr_channels": "1",
    "kernel/mm/migrate_copy/dsa/offloaded": "512",
    "kernel/mm/migrate_copy/dsa/descriptors": "16",
    "kernel/mm/migrate_copy/dsa/copies": "512",
    "devices/system/node/has_memory": "0",
}

WQ = "bus/dsa/devices/wq0.0/"
ENGINE = "kernel/mm/migrate_copy/dsa/"

# name: (changes, where None removes the file or directory, exit code, expected line)
PITFALLS = {
    "idxd_not_loaded": ({"bus": None}, 2, "problem: idxd is not loaded"),
    "only_idxd_bus_loaded": ({"bus/dsa/drivers": None}, 2, "problem: idxd is not loaded"),
    "no_device": ({"bus/dsa/devices": None, "bus/dsa/devices/.keep": ""}, 2,
                  "problem: no DSA device"),
    "shared_wq_without_pasid": ({WQ + "mode": "shared"}, 2,
                                "PASID is off, so it cannot work"),
    "wq_without_name": ({WQ + "name": ""}, 2, "wq0.0 has no name"),
    "driver_name_not_dmaengine": ({WQ + "driver_name": "user"}, 2,
                                  "not dmaengine: accel-config config-wq dsa0/wq0.0"
                                  " --driver-name=dmaengine"),
    "wq_not_enabled": ({WQ + "state": "disabled"}, 2,
                       "wq0.0 is disabled: accel-config enable-wq dsa0/wq0.0"),
    "device_halted": ({"bus/dsa/devices/dsa0/state": "halted"}, 2, "dsa0 is halted: reset it"),
    "small_max_transfer": ({WQ + "max_transfer_size": "65536"}, 4,
                           "--max-transfer-size=2097152"),
    "wq_claimed_by_another_client": ({WQ + "clients": "2"}, 4, "another client"),
    "node_without_device": ({"devices/system/node/has_memory": "0-1"}, 4,
                            "node 1 has memory but no usable DSA work queue"),
    "device_without_node": ({"bus/dsa/devices/dsa0/numa_node": "-1"}, 4,
                            "dsa0 reports no NUMA node (numa_node -1)"),
    "feature_off": ({"kernel/mm/migrate_copy/enabled": "false"}, 3,
                    "echo 1 > /sys/kernel/mm/migrate_copy/enabled"),
    "engine_disabled": ({ENGINE + "enabled": "0", ENGINE + "nr_channels": "0"}, 3,
                        "the DSA engine is disabled"),
    "engine_not_loaded": ({"kernel/mm/migrate_copy/dsa": None}, 3,
                          "modprobe idxd_migrate_copy"),
    "kernel_without_feature": ({"kernel/mm/migrate_copy": None}, 3,
                               "this kernel has no batched migration copy"),
}


class DsaSetupTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.out = tempfile.mkdtemp(prefix="dsa-setup-")
        build = subprocess.run(["make", "-s", "-C", os.path.join(TOP, "tools", "dsa-setup"),
                                "OUT=" + cls.out], capture_output=True, text=True)
        cls.build_error = None if build.returncode == 0 else build.stdout + build.stderr
        cls.tool = os.path.join(cls.out, "dsa-setup")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.out, ignore_errors=True)

    def tree(self, changes):
        root = tempfile.mkdtemp(prefix="fake-sysfs-")
        self.addCleanup(shutil.rmtree, root, ignore_errors=True)
        files = dict(HEALTHY)
        files.update({k: v for k, v in changes.items() if v is not None})
        for path, value in files.items():
            os.makedirs(os.path.dirname(os.path.join(root, path)), exist_ok=True)
            with open(os.path.join(root, path), "w") as f:
                f.write(value + "\n")
        for path, value in changes.items():
            if value is None:
                shutil.rmtree(os.path.join(root, path))
                if path == "bus/dsa/devices":
                    os.makedirs(os.path.join(root, path))
        return root

    def run_tool(self, root, command="check"):
        self.assertIsNone(self.build_error, "dsa-setup did not build:\n%s" % self.build_error)
        return subprocess.run([self.tool, "--sysfs", root, command], capture_output=True,
                              text=True, timeout=30)

    def test_healthy_tree_is_healthy(self):
        result = self.run_tool(self.tree({}))
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("ok: 1 usable WQ(s), the engine holds 1 channel(s)", result.stdout)
        self.assertNotIn("problem:", result.stdout)
        self.assertNotIn("warning:", result.stdout)
        self.assertIn("wq0.0: dedicated kernel", result.stdout)
        for _, _, line in PITFALLS.values():
            self.assertNotIn(line, result.stdout)

    def test_status_shows_engine_and_counters(self):
        result = self.run_tool(self.tree({}), "status")
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("feature: on, engine choice: auto cpu [dsa]", result.stdout)
        self.assertIn("DSA engine: enabled, 1 channel(s)", result.stdout)
        self.assertRegex(result.stdout, r"offloaded\s+512")
        self.assertRegex(result.stdout, r"copies\s+512")

    def test_usage_errors_exit_1(self):
        self.assertIsNone(self.build_error, self.build_error)
        for args in ([], ["bogus"], ["check", "extra"], ["--sysfs", "/tmp", "apply"]):
            result = subprocess.run([self.tool] + args, capture_output=True, text=True)
            self.assertEqual(result.returncode, 1, args)
            self.assertIn("usage:", result.stderr)


def make_pitfall_test(changes, code, line):
    def test(self):
        result = self.run_tool(self.tree(changes))
        self.assertEqual(result.returncode, code, result.stdout + result.stderr)
        self.assertIn(line, result.stdout)
    return test


for _name, (_changes, _code, _line) in PITFALLS.items():
    setattr(DsaSetupTest, "test_pitfall_" + _name, make_pitfall_test(_changes, _code, _line))

class ProfileTest(unittest.TestCase):
    """tools/dsa-setup/dsa-migrate.conf sets up what `dsa-setup apply` does."""

    def test_profile_is_one_dedicated_kernel_dmaengine_wq(self):
        import json
        with open(os.path.join(TOP, "tools", "dsa-setup", "dsa-migrate.conf")) as f:
            profile = json.load(f)
        wqs = [wq for device in profile for group in device["groups"]
               for wq in group["grouped_workqueues"]]
        self.assertEqual(len(wqs), 1)
        wq = wqs[0]
        for key, want in (("mode", "dedicated"), ("type", "kernel"),
                          ("driver_name", "dmaengine"), ("name", "migrate"), ("size", 32),
                          ("max_batch_size", 32), ("max_transfer_size", 2097152)):
            self.assertEqual(wq[key], want, key)
        with open(os.path.join(TOP, "tools", "dsa-setup", "dsa-setup.c")) as f:
            source = f.read()
        for call in ('accfg_wq_set_str_name(wq, "migrate")', "accfg_wq_set_size(wq, 32)",
                     "accfg_wq_set_max_batch_size(wq, 32)", "ACCFG_WQ_DEDICATED",
                     'accfg_wq_set_str_driver_name(wq, "dmaengine")'):
            self.assertIn(call, source)


if __name__ == "__main__":
    unittest.main()
