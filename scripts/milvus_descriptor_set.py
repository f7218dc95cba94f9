"""Writes the pruned FileDescriptorSet that `generate-milvus-protocol.sh` compiles to Swift.

The pymilvus wheel ships no .proto files, only `pymilvus/grpc_gen/*_pb2.py`; each module's
`DESCRIPTOR.serialized_pb` is a FileDescriptorProto. This script collects them, keeps the
`MilvusService` RPCs that `quiver serve` answers and every type they reach (plus two types that
travel inside `bytes` fields), drops the custom options (their extensions extend
`google/protobuf/descriptor.proto`, which the Swift code then need not carry), and writes one
FileDescriptorSet that `protoc --descriptor_set_in` reads. Package and service names are kept,
so RPC paths on the wire are unchanged (`/milvus.proto.milvus.MilvusService/Search`).

    python milvus_descriptor_set.py OUT.desc
"""

import sys

from google.protobuf import descriptor_pb2
from pymilvus.grpc_gen import common_pb2, feder_pb2, milvus_pb2, msg_pb2, rg_pb2, schema_pb2

SERVICE = "MilvusService"

# The RPCs `quiver serve` answers (Sources/QuiverServer). Every other RPC answers UNIMPLEMENTED.
SERVED = [
    "Connect", "GetVersion", "CheckHealth", "ListDatabases", "AllocTimestamp",
    "CreateCollection", "DropCollection", "HasCollection", "DescribeCollection", "ShowCollections",
    "RenameCollection", "GetCollectionStatistics",
    "LoadCollection", "ReleaseCollection", "GetLoadingProgress", "GetLoadState",
    "CreateIndex", "DescribeIndex", "DropIndex", "GetIndexState", "GetIndexBuildProgress",
    "Insert", "Upsert", "Delete", "Search", "HybridSearch", "Query", "Flush", "GetFlushState",
    "CreateAlias", "AlterAlias", "DropAlias", "ListAliases", "DescribeAlias",
    "CreatePartition", "DropPartition", "HasPartition", "ShowPartitions",
]

# Types carried serialized inside `bytes` fields, which no RPC signature reaches.
KEPT = [
    ".milvus.proto.common.PlaceholderGroup",   # SearchRequest.placeholder_group
    ".milvus.proto.schema.CollectionSchema",   # CreateCollectionRequest.schema
]

MODULES = [common_pb2, schema_pb2, feder_pb2, msg_pb2, rg_pb2, milvus_pb2]
EXTENSIONS = {
    ".google.protobuf.MessageOptions": [common_pb2.privilege_ext_obj],
    ".google.protobuf.FileOptions": [milvus_pb2.milvus_ext_obj],
}


def load_files():
    files = {}
    for module in MODULES:
        proto = descriptor_pb2.FileDescriptorProto.FromString(module.DESCRIPTOR.serialized_pb)
        files[proto.name] = proto
    return files


def index_types(files):
    """Fully qualified name -> (file name, DescriptorProto or EnumDescriptorProto, top-level name)."""
    types = {}

    def add_message(file_name, prefix, message, top):
        name = f"{prefix}.{message.name}"
        types[name] = (file_name, message, top)
        for nested in message.nested_type:
            add_message(file_name, name, nested, top)
        for enum in message.enum_type:
            types[f"{name}.{enum.name}"] = (file_name, enum, top)

    for file_name, proto in files.items():
        prefix = "." + proto.package
        for message in proto.message_type:
            add_message(file_name, prefix, message, f"{prefix}.{message.name}")
        for enum in proto.enum_type:
            types[f"{prefix}.{enum.name}"] = (file_name, enum, f"{prefix}.{enum.name}")
    return types


def reachable(types, roots):
    """The top-level types (messages kept whole, with their nested types) reached from `roots`."""
    kept, pending = set(), list(roots)
    while pending:
        name = pending.pop()
        if name not in types:
            raise SystemExit(f"unknown type {name}")
        _, _, top = types[name]
        if top in kept:
            continue
        kept.add(top)
        # every type a field of the top-level message or of any nested message names
        stack = [types[top][1]]
        while stack:
            item = stack.pop()
            if isinstance(item, descriptor_pb2.DescriptorProto):
                for field in item.field:
                    if field.type_name:
                        pending.append(field.type_name)
                stack.extend(item.nested_type)
    return kept


def main(out_path):
    files = load_files()
    types = index_types(files)
    service = next(s for s in files["milvus.proto"].service if s.name == SERVICE)
    methods = {m.name: m for m in service.method}
    missing = [name for name in SERVED if name not in methods]
    if missing:
        raise SystemExit(f"RPCs not in {SERVICE}: {missing}")
    roots = list(KEPT)
    for name in SERVED:
        roots += [methods[name].input_type, methods[name].output_type]
    kept = reachable(types, roots)

    out = descriptor_pb2.FileDescriptorSet()
    used_files = {types[name][0] for name in kept} | {"milvus.proto"}
    # dependency order: a file after the files it imports
    order, seen = [], set()

    def visit(name):
        if name in seen or name not in files:
            return
        seen.add(name)
        for dep in files[name].dependency:
            visit(dep)
        order.append(name)

    for name in files:
        visit(name)

    for file_name in order:
        if file_name not in used_files:
            continue
        proto = descriptor_pb2.FileDescriptorProto()
        proto.CopyFrom(files[file_name])
        prefix = "." + proto.package
        messages = [m for m in proto.message_type if f"{prefix}.{m.name}" in kept]
        enums = [e for e in proto.enum_type if f"{prefix}.{e.name}" in kept]
        del proto.message_type[:]
        proto.message_type.extend(messages)
        del proto.enum_type[:]
        proto.enum_type.extend(enums)
        del proto.extension[:]
        services = []
        for s in proto.service:
            if s.name != SERVICE:
                continue
            kept_methods = [m for m in s.method if m.name in SERVED]
            del s.method[:]
            s.method.extend(kept_methods)
            for m in s.method:
                m.ClearField("options")
            services.append(s)
        del proto.service[:]
        proto.service.extend(services)
        for extension in EXTENSIONS[".google.protobuf.FileOptions"]:
            proto.options.ClearExtension(extension)
        strip_message_options(proto.message_type)
        # imports: only the files whose types the kept types name
        needed = set()
        for m in proto.message_type:
            collect_type_files(m, types, needed)
        for s in proto.service:
            for m in s.method:
                needed.add(types[m.input_type][0])
                needed.add(types[m.output_type][0])
        needed.discard(file_name)
        deps = [d for d in proto.dependency if d in needed]
        del proto.dependency[:]
        proto.dependency.extend(deps)
        del proto.public_dependency[:]
        del proto.weak_dependency[:]
        out.file.append(proto)

    with open(out_path, "wb") as f:
        f.write(out.SerializeToString())
    print(f"{out_path}: {len(SERVED)} RPCs, {len(kept)} top-level types, files "
          + ", ".join(p.name for p in out.file))


def strip_message_options(messages):
    for m in messages:
        for extension in EXTENSIONS[".google.protobuf.MessageOptions"]:
            m.options.ClearExtension(extension)
        if not m.options.ListFields():
            m.ClearField("options")
        strip_message_options(m.nested_type)


def collect_type_files(message, types, needed):
    for field in message.field:
        if field.type_name:
            needed.add(types[field.type_name][0])
    for nested in message.nested_type:
        collect_type_files(nested, types, needed)


if __name__ == "__main__":
    main(sys.argv[1])
