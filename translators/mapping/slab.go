package mapping

import (
	"reflect"
	"sync"
	"unsafe"
)

// A slab hands out the structs that documents point to (a party, its
// address) from a shared array, one allocation for many of them rather
// than one each, as evaluator.text does for values. An element handed out
// is never handed out again, so each stays the document's own; a
// document kept alone keeps at most its slab's array alive.
type slab struct {
	base unsafe.Pointer // the array; nil before the first
	used int            // elements handed out
	n    int            // elements in the array
}

// slabBytes is about the size of a slab's array.
const slabBytes = 4 << 10

// slabKinds numbers the struct types that slabs hold, so that an evaluator
// finds the slab of a type by its number whatever mapping it runs.
var slabKinds struct {
	sync.Mutex
	index map[reflect.Type]int
}

func slabIndex(t reflect.Type) int {
	slabKinds.Lock()
	defer slabKinds.Unlock()
	i, ok := slabKinds.index[t]
	if !ok {
		if slabKinds.index == nil {
			slabKinds.index = map[reflect.Type]int{}
		}
		i = len(slabKinds.index)
		slabKinds.index[t] = i
	}
	return i
}

// take returns a zeroed struct of g's type from its slab, and a mark
// for give.
func (ev *evaluator) take(g *group) (unsafe.Pointer, slabMark) {
	for len(ev.slabs) <= g.slab {
		ev.slabs = append(ev.slabs, slab{})
	}
	s := &ev.slabs[g.slab]
	size := g.typ.Size()
	if s.used == s.n {
		s.n = max(8, slabBytes/int(size))
		s.base, s.used = reflect.MakeSlice(g.slice, s.n, s.n).UnsafePointer(), 0
	}
	p := unsafe.Add(s.base, uintptr(s.used)*size)
	s.used++
	return p, slabMark{base: s.base, used: s.used}
}

type slabMark struct {
	base unsafe.Pointer
	used int
}

// give hands back the struct take returned last, still zero, when no
// other was taken since: the next take returns it again.
func (ev *evaluator) give(g *group, m slabMark) {
	if s := &ev.slabs[g.slab]; s.base == m.base && s.used == m.used {
		s.used--
	}
}

// zero reports whether the size bytes at p are all zero.
func zero(p unsafe.Pointer, size uintptr) bool {
	for _, b := range unsafe.Slice((*byte)(p), size) {
		if b != 0 {
			return false
		}
	}
	return true
}

// strings returns a slice of n strings, all empty, carved out of a shared
// array (see slab). Its capacity is n, so that appending to it never
// writes over another's strings.
func (ev *evaluator) strings(n int) []string {
	if cap(ev.strs)-len(ev.strs) < n {
		ev.strs = make([]string, 0, max(n, slabBytes/16))
	}
	start := len(ev.strs)
	ev.strs = ev.strs[:start+n]
	return ev.strs[start : start+n : start+n]
}
