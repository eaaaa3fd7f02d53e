/// An array stored as fixed-size chunks grouped in pages, so that a copy of it shares every
/// chunk and the first writes after a copy duplicate only what they touch (issue #12: readers
/// hold a view of the state while apply goes on).
///
/// A plain `Array` is copy-on-write as a whole: once a reader holds a copy, the next write copies
/// every element (3 s at 1M jobs, docs/benchmarks.md). Here a copy shares the same buffers; a
/// write after a copy duplicates the page list (one reference per ``elementsPerPage`` elements:
/// 123 at 1M), the page it lands in (``chunksPerPage`` references) and the chunk
/// (``chunkSize`` elements), each once. Memory grows only by those while the copy lives.
///
/// Otherwise it behaves as an array: random access by `Int` position from 0, append and
/// remove at the end, in the same order an `Array` would keep (the scheduler's slab order, which
/// the snapshot writes, does not change). A position out of range traps, as with `Array`; the
/// scheduler only uses positions its own indexes hold.
struct ChunkedArray<Element> {
    /// log2 of the elements per chunk (64): small, because a write after a copy duplicates a
    /// whole chunk, retaining every reference its elements hold.
    static var chunkShift: Int { 6 }
    /// log2 of the chunks per page (128).
    static var pageShift: Int { 7 }
    /// Elements per chunk.
    static var chunkSize: Int { 1 << chunkShift }
    /// Chunks per page.
    static var chunksPerPage: Int { 1 << pageShift }
    /// Elements per page (8,192).
    static var elementsPerPage: Int { 1 << (chunkShift + pageShift) }
    private static var chunkMask: Int { chunkSize - 1 }
    private static var pageMask: Int { chunksPerPage - 1 }
    private static var elementsPerPageMask: Int { elementsPerPage - 1 }

    /// Pages of chunks. Every page but the last holds ``chunksPerPage`` full chunks; every chunk
    /// but the last is full; the last page and the last chunk are not empty.
    private var pages: [[[Element]]] = []
    /// Number of elements.
    private(set) var count = 0

    /// An empty array.
    init() {}

    /// The elements of `elements`, in order.
    init<S: Sequence>(_ elements: S) where S.Element == Element {
        for element in elements { append(element) }
    }

    /// Adds `element` at the end (a new chunk, with room for ``chunkSize``, when the last is full;
    /// a new page when the last page is full).
    mutating func append(_ element: Element) {
        var chunk: [Element] {
            var chunk: [Element] = []
            chunk.reserveCapacity(Self.chunkSize)
            chunk.append(element)
            return chunk
        }
        if count & Self.elementsPerPageMask == 0 {
            var page: [[Element]] = []
            page.reserveCapacity(Self.chunksPerPage)
            page.append(chunk)
            pages.append(page)
        } else if count & Self.chunkMask == 0 {
            pages[pages.count - 1].append(chunk)
        } else {
            let p = pages.count - 1
            pages[p][pages[p].count - 1].append(element)
        }
        count += 1
    }

    /// Removes and returns the last element; traps when empty (as `Array.removeLast()`).
    @discardableResult
    mutating func removeLast() -> Element {
        let p = pages.count - 1
        let c = pages[p].count - 1
        let element = pages[p][c].removeLast()
        if pages[p][c].isEmpty {
            pages[p].removeLast()
            if pages[p].isEmpty { pages.removeLast() }
        }
        count -= 1
        return element
    }

    /// Keeps the elements for which `shouldBeRemoved` is false, in order. O(n): builds new chunks.
    mutating func removeAll(where shouldBeRemoved: (Element) throws -> Bool) rethrows {
        var kept = ChunkedArray()
        for element in self where !(try shouldBeRemoved(element)) { kept.append(element) }
        self = kept
    }

    /// Removes every element.
    mutating func removeAll() {
        pages = []
        count = 0
    }

    /// Inserts `element` before position `i` (0...count). O(n) from `i` to the end: the scheduler
    /// uses it only for input apply never produces (an out-of-order sequence number).
    mutating func insert(_ element: Element, at i: Int) {
        append(element)
        var j = count - 1
        while j > i {
            self.swapAt(j, j - 1)
            j -= 1
        }
    }
}

extension ChunkedArray: RandomAccessCollection, MutableCollection {
    /// Always 0.
    var startIndex: Int { 0 }
    /// The element count.
    var endIndex: Int { count }

    /// The element at position `i`. Writing through it duplicates the chunk when a copy shares it.
    subscript(i: Int) -> Element {
        get { pages[i >> (Self.chunkShift + Self.pageShift)][(i >> Self.chunkShift) & Self.pageMask][i & Self.chunkMask] }
        _modify { yield &pages[i >> (Self.chunkShift + Self.pageShift)][(i >> Self.chunkShift) & Self.pageMask][i & Self.chunkMask] }
        set { pages[i >> (Self.chunkShift + Self.pageShift)][(i >> Self.chunkShift) & Self.pageMask][i & Self.chunkMask] = newValue }
    }

    /// The last element, if any (without going through the generic `BidirectionalCollection` path).
    var last: Element? { pages.last?.last?.last }
    /// The first element, if any.
    var first: Element? { pages.first?.first?.first }
    /// Whether there is no element.
    var isEmpty: Bool { count == 0 }
}

extension ChunkedArray {
    /// Walks the chunks in order (a full walk — the snapshot encoder, a restore's rebuild — reads
    /// each chunk directly instead of splitting every position into page, chunk and slot).
    struct Iterator: IteratorProtocol {
        private let pages: [[[Element]]]
        private var page = 0
        private var chunk = 0
        private var slot = 0

        fileprivate init(_ pages: [[[Element]]]) { self.pages = pages }

        /// The next element, or `nil` after the last.
        mutating func next() -> Element? {
            while page < pages.count {
                let chunks = pages[page]
                while chunk < chunks.count {
                    if slot < chunks[chunk].count {
                        defer { slot += 1 }
                        return chunks[chunk][slot]
                    }
                    chunk += 1
                    slot = 0
                }
                page += 1
                chunk = 0
            }
            return nil
        }
    }

    /// An iterator over the elements in order.
    func makeIterator() -> Iterator { Iterator(pages) }
}

extension ChunkedArray: Sendable where Element: Sendable {}
