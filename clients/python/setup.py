"""The accord-client Python package: Accord's messages and gRPC stubs, and
the google.api and google.rpc messages they use (google.rpc for decoding
error details), generated from clients/buf.gen.yaml.

clients/python/package.sh copies this file beside the generated code and
builds the wheel with Debian's setuptools and wheel; the version is
clients/VERSION, passed in ACCORD_CLIENT_VERSION.
"""

import os

from setuptools import find_namespace_packages, setup

setup(
    name="accord-client",
    version=os.environ["ACCORD_CLIENT_VERSION"],
    description="Accord's gRPC API: generated messages and stubs",
    python_requires=">=3.9",
    # Debian 12's python3-grpcio and python3-protobuf satisfy these.
    install_requires=["grpcio>=1.51", "protobuf>=4.21"],
    # Generated folders carry no __init__.py: namespace packages, so that
    # google.api and google.rpc sit beside the protobuf runtime's google.protobuf.
    packages=find_namespace_packages(include=["accord.*", "google.api", "google.rpc"]),
)
