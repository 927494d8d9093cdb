"""Maps the top-level folders into the one `housecoder.*` import namespace.

`server/`, `indexer/` and `training/` become `housecoder.server`, `housecoder.indexer` and
`housecoder.training`; the shared code (CLI, config, models and adapters, the completion engine and its
stages, syntax, evaluation, benchmarks, feedback) is `housecoder/`.
Subpackages are found automatically so a new folder needs no edit here.
"""

from setuptools import find_packages, setup

ROOTS = {
    "housecoder": "housecoder",
    "housecoder.server": "server",
    "housecoder.indexer": "indexer",
    "housecoder.training": "training",
}

packages = []
for package, folder in ROOTS.items():
    packages.append(package)
    packages.extend(f"{package}.{sub}" for sub in find_packages(folder))

setup(packages=packages, package_dir=ROOTS)
