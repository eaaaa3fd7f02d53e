#!/usr/bin/env python3
"""Attributes the samples of a `perf record -g` profile of a Quorum node to areas.

    perf script -i perf-forward-leader.data -F ip,sym,dso | swift demangle \
        | python3 scripts/bench/profile_areas.py

(`scripts/bench.sh profile-forward` writes `perf-forward-leader.data` and
`perf-forward-follower.data`; demangle without `--simplified`: the rules match module names.)
Prints one Markdown table: each area's share of the samples, split by what the sampled
instruction itself was (kernel, allocation and reference counting, runtime type metadata, the
rest).

Each sample counts once, for the area of the nearest frame, from the leaf up, that names one
(the first rule of `AREAS` that matches that frame; then, for a sample no rule of `AREAS`
matches, the same with `FALLBACK_AREAS`); a sample with no such frame is "other".
The rules are regular expressions over fully demangled Swift symbols (`Module.Type.method`);
they are heuristics: the table says where the time goes, to a few per cent.
"""
import re
import sys
from collections import Counter, defaultdict

# What the sampled instruction was (the leaf frame), whoever called it.
LEAF_KINDS = [
    ("kernel", re.compile(r"\(\[kernel")),
    ("alloc / ARC", re.compile(
        r"\s(malloc|free|calloc|realloc|_int_malloc|_int_free|cfree|malloc_consolidate|tcache\w*|"
        r"swift_(retain|release|allocObject|deallocObject|bridgeObjectRetain|bridgeObjectRelease|"
        r"unknownObjectRetain|unknownObjectRelease|isUniquelyReferenced\w*|beginAccess|endAccess|"
        r"retain_n|release_n|deallocClassInstance|slowAlloc|slowDealloc|arrayInitWithCopy|arrayAssignWithCopy\w*|"
        r"arrayDestroy|initStackObject|setDeallocating|deallocUninitializedObject)|_swift_release_dealloc|"
        r"swift::RefCounts|swift::HeapObjectSideTableEntry|operator new|operator delete|"
        r"__mem(move|cpy|set)\w*|mem(cpy|move|set)|_swift_stdlib_malloc_size|malloc_usable_size)\b")),
    ("type metadata", re.compile(
        r"(swift_getGenericMetadata|swift_getWitnessTable|swift_conformsToProtocol|swift_dynamicCast|"
        r"swift_getAssociated|swift_getTypeByMangledName|swift_checkMetadataState|"
        r"__swift_instantiateConcreteTypeFromMangledName|swift::Metadata|getCache|MetadataCacheKey|"
        r"swift_getForeignTypeMetadata|swift_getTupleTypeMetadata|swift_getExistentialTypeMetadata|"
        r"swift_getObjectType|swift_getFunctionTypeMetadata|ConcurrentReadableHashMap|"
        r"swift_getCanonicalSpecializedMetadata|swift::_gatherGenericParameters|swift::TargetMetadata)")),
]

# Areas, most specific first: the first rule matching the nearest frame that any rule matches.
AREAS = [
    ("WAL / fsync", r"fdatasync|\bfsync|RaftStorage\.|LogWriteQueue"),
    ("thread hops: tasks -> NIO event loops (execute, eventfd, lock)",
     r"NIOCore\.EventLoop\.execute|SelectableEventLoop\._schedule0|SelectableEventLoop\.execute|"
     r"EventLoop\.(submit|flatSubmit)|NIOAsyncChannelHandlerWriterDelegate\.didYield|NIOAsyncWriter.*yield"),
    ("TLS / crypto", r"CNIOBoringSSL|NIOSSL\.|\bSHA\d|\baes|\bgcm_|\bCRYPTO_|\bEVP_|\bssl\d?_|\btls13_|\bbssl"),
    ("JSON", r"JSONEncoder|JSONDecoder|JSONBufferWriter|JSONByteReader|StrictJSON|fastDecode|handWrittenJSON|"
             r"JSONSerialization|JSONWriter|JSONScanner|JSONMap|RFC3339"),
    ("metrics", r"NodeMetrics\.|CoreMetrics\.|Prometheus|\bMetrics\."),
    ("logging", r"\bLogging\.|StreamLogHandler|LogHandler"),
    ("forwarding (follower and leader sides)",
     r"PeerLink\.(forward|resolve|send\(NodeRuntime\.ForwardCoalescer|answerForward|batchAnswered)|ForwardCoalescer|"
     r"ForwardBatch|ForwardedOutcome|ForwardedUnstamped|ForwardedProposal|ForwardHandler|RaftReplica\.forward"),
    ("Raft core", r"RaftCore\.|RaftWire\."),
    ("Raft driver (actor, proposals, apply hand-off)", r"\bNode\.(RaftDriver|ProposalWaiter|LeadershipBroadcast|PeerMessenger)"),
    ("apply + events (SchedulerCore, state machine)",
     r"SchedulerCore\.|SchedulerStateMachine|ProposerEvents|EventHub|SchedulerPlanning\.UnstampedCommand\.resolved"),
    ("submission path: route, validation, planning, resolver",
     r"HTTPAPI\.|SchedulerPlanning\.|NodeRuntime\.RaftReplica|NodeRuntime\.LeaderResolver|RaftAPIReplica|quorum\.\w+Replica"),
    ("peer transport (frames, TLS connections' plumbing)", r"\bTransport\.|NodeRuntime\.PeerLink"),
    ("other node runtime", r"NodeRuntime\.|NodeCore\.|\bquorum\.|Executor\."),
    ("HTTP server (Hummingbird, HTTP/1 codec)", r"Hummingbird|HTTPTypes|NIOHTTP1|NIOHTTPTypes"),
    ("NIO event loops, channels, sockets", r"NIOPosix\.|NIOCore\.|_NIODataStructures|NIOConcurrencyHelpers|DequeModule"),
    ("task scheduling (Swift concurrency, dispatch)", r"libswift_Concurrency|libdispatch|swift_task|swift_job"),
]
# Only for samples no frame of which any rule above matches: the user stack ends in libc (no
# frame pointers there), so the caller is not recorded.
FALLBACK_AREAS = [
    ("threads parking and waking (futex; caller not recorded)", r"futex|__lll_lock|pthread_cond"),
    ("malloc / free (caller not recorded)", r"malloc|_int_free|unlink_chunk|sysmalloc|cfree"),
    ("other syscalls (caller not recorded)", r"__GI___|__libc_|syscall"),
]
AREAS = [(name, re.compile(pattern)) for name, pattern in AREAS]
FALLBACK_AREAS = [(name, re.compile(pattern)) for name, pattern in FALLBACK_AREAS]


def samples(lines):
    """Yields each sample's frames, leaf first."""
    frames = []
    for line in lines:
        if line.strip():
            frames.append(line.strip())
        elif frames:
            yield frames
            frames = []
    if frames:
        yield frames


def leaf_kind(leaf):
    for name, pattern in LEAF_KINDS:
        if pattern.search(leaf):
            return name
    return "code"


def area_of(frames):
    for rules in (AREAS, FALLBACK_AREAS):
        for frame in frames:
            for name, pattern in rules:
                if pattern.search(frame):
                    return name
    return "other"


def main():
    kinds = [name for name, _ in LEAF_KINDS] + ["code"]
    cells = defaultdict(Counter)
    totals = Counter()
    total = 0
    for frames in samples(sys.stdin):
        area = area_of(frames)
        cells[area][leaf_kind(frames[0])] += 1
        totals[area] += 1
        total += 1
    if total == 0:
        sys.exit("no samples on stdin (pipe `perf script -F ip,sym,dso | swift demangle` into this script)")
    pct = lambda n: f"{100 * n / total:.1f} %"
    print(f"| area ({total} samples) | share | of which: " + " / ".join(kinds) + " |")
    print("|---|---:|---:|")
    for area, count in totals.most_common():
        print(f"| {area} | {pct(count)} | " + " / ".join(pct(cells[area][k]) for k in kinds) + " |")
    all_kinds = Counter()
    for area in cells:
        all_kinds.update(cells[area])
    print(f"| **all** | 100 % | " + " / ".join(pct(all_kinds[k]) for k in kinds) + " |")


if __name__ == "__main__":
    main()
