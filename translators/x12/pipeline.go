package x12

import (
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"runtime/debug"
	"sync"
)

// Validating with the reader on a goroutine of its own (Validator.Pipelined).
//
// Reading (finding terminators and separators) is about 40% of validation's
// work and needs nothing from the validator but the input. A reading
// goroutine hands the segments it reads over in batches, in order; the
// caller's goroutine validates them as Validate always does. Reader
// warnings and the end of the input travel in the same batches, as notes
// between segments, so every callback comes in the order of a sequential
// run, on the caller's goroutine.
//
// The reader keeps its segments (Reader.keep): it never overwrites the
// bytes and element slices it has handed out. The buffers and chunks it
// leaves while filling a batch travel with that batch, and come back to it
// for reuse when the batch has been validated: the segments that lie in
// them belong to that batch or to earlier ones, which were validated first.
// So memory stays bounded by batchesInFlight batches. With KeepSegments a
// validated batch is held until the sets its segments belong to may be
// reused (ReuseSegments and Released), or to the end.

// batchesInFlight bounds the batches one validation holds: the reader may
// run this far ahead of the validator.
const batchesInFlight = 4

// batchSegs is the number of segments in a full batch.
const batchSegs = 1024

// batch is a run of consecutive segments with what the reader noticed
// between them.
type batch struct {
	segs  []Segment
	elems [][]byte // element slices of segments the reader did not keep
	notes []note
	left  leftBehind // what the reader left while the batch was filled
	end   bool       // the last batch: reading ended, with err (io.EOF at the end of the input)
	err   error      // see end
	panic any        // the reader panicked with this (and stack)
	stack []byte
}

// note is something that happened before segs[at] was read.
type note struct {
	at     int
	off    int64
	msg    string      // a reader warning, when delims is nil
	delims *Delimiters // the delimiters of the interchange whose ISA is segs[at]
}

var batchPool = sync.Pool{New: func() any {
	return &batch{segs: make([]Segment, 0, batchSegs), elems: make([][]byte, 0, 256)}
}}

// reset empties b for reuse. The segments, element slices and what they
// lay in are left in the arrays, to be overwritten: they belong to this
// validation, which holds them anyway; put clears them.
func (b *batch) reset() {
	b.segs, b.elems, b.notes = b.segs[:0], b.elems[:0], b.notes[:0]
	b.left = leftBehind{b.left.bufs[:0], b.left.chunks[:0]}
	b.end, b.err, b.panic, b.stack = false, nil, nil, nil
}

// put returns b to batchPool, holding on to nothing of this validation.
func (b *batch) put() {
	clear(b.segs[:cap(b.segs)])
	clear(b.elems[:cap(b.elems)])
	clear(b.notes[:cap(b.notes)])
	clear(b.left.bufs[:cap(b.left.bufs)])
	clear(b.left.chunks[:cap(b.left.chunks)])
	b.reset()
	batchPool.Put(b)
}

// add appends seg to b, unless b is full. The element slices of a
// segment the reader did not keep are copied; their bytes stay where they
// are, as the reader never overwrites what it handed out.
func (b *batch) add(seg *Segment) bool {
	if len(b.segs) == cap(b.segs) {
		return false
	}
	s := *seg
	if !s.kept {
		if cap(b.elems)-len(b.elems) < len(s.Elements) {
			// Earlier segments hold the old array: start a new one.
			b.elems = make([][]byte, 0, max(256, len(s.Elements)))
		}
		first := len(b.elems)
		b.elems = append(b.elems, s.Elements...)
		s.Elements = b.elems[first:len(b.elems):len(b.elems)]
	}
	b.segs = append(b.segs, s)
	return true
}

// pipelined reports whether Validate should read on a goroutine of its own.
func (v *Validator) pipelined() bool {
	return v.Pipelined && runtime.GOMAXPROCS(0) > 1
}

// readBatches reads rd to its end (or its first error) into batches, sent
// on full in order (at most batchesInFlight not yet validated), each taken
// from free when one is there, else from batchPool. It
// stops early when stop closes.
func readBatches(rd *Reader, full chan<- *batch, free <-chan *batch, ahead chan<- struct{}, stop <-chan struct{}) {
	b := batchPool.Get().(*batch)
	b.reset()
	send := func() {
		b.left = rd.left()
		full <- b
	}
	defer func() {
		if p := recover(); p != nil {
			// Handed to the validating goroutine, which panics with it:
			// a panic here would end the program, out of its caller's
			// reach.
			b.panic, b.stack, b.end = p, debug.Stack(), true
			full <- b
		}
	}()
	rd.OnWarning = func(off int64, msg string) {
		b.notes = append(b.notes, note{at: len(b.segs), off: off, msg: msg})
	}
	for {
		var seg *Segment
		var err error
		ok := false
		if rd.fast && rd.inISA && rd.err == nil {
			seg, ok = rd.nextFast()
		}
		if !ok {
			seg, err = rd.Next()
		}
		if err != nil {
			b.end, b.err = true, err
			send()
			return
		}
		if !ok && string(seg.Elements[0]) == "ISA" {
			d := rd.Delimiters()
			b.notes = append(b.notes, note{at: len(b.segs), delims: &d})
		}
		// A batch ends when full, or when the reader has left a buffer
		// behind: a batch then holds at most two buffers, however long
		// its segments are.
		added := b.add(seg)
		if added && len(rd.retired) == 0 {
			continue
		}
		select {
		case ahead <- struct{}{}: // at most batchesInFlight not yet validated
		case <-stop:
			return
		}
		send()
		select {
		case b = <-free:
			// What its segments lay in is free.
			rd.reuseLeft(b.left)
		default:
			b = batchPool.Get().(*batch)
		}
		b.reset()
		if !added {
			b.add(seg)
		}
	}
}

// validatePipelined is Validate with the reading on another goroutine.
func (st *state) validatePipelined(rd *Reader) error {
	full := make(chan *batch, batchesInFlight+1)
	free := make(chan *batch, 4*batchesInFlight)
	ahead := make(chan struct{}, batchesInFlight)
	stop := make(chan struct{})
	defer close(stop) // ends the reader if validation panics
	rd.keep, rd.reuse = true, true
	go readBatches(rd, full, free, ahead, stop)
	st.rd = nil // the reading goroutine's now
	var held held[*batch]
	for {
		b := <-full
		n := 0
		for i := range b.segs {
			for ; n < len(b.notes) && b.notes[n].at == i; n++ {
				st.note(&b.notes[n])
			}
			st.segments++
			st.segment(&b.segs[i])
		}
		for ; n < len(b.notes); n++ {
			st.note(&b.notes[n])
		}
		if !b.end {
			<-ahead
			st.holdBatch(&held, b, free)
			continue
		}
		// The reader is done: its state is ours again.
		if b.panic != nil {
			panic(fmt.Sprintf("x12: reading the input: %v\n%s", b.panic, b.stack))
		}
		err := b.err
		end := st.end(rd, err)
		// The batches go back to the pool: no kept segment points into
		// a batch's own arrays (state.keep copies the element slices of
		// segments the reader did not keep), and the reader's buffers and
		// chunks they carry are dropped, not reused, so sets the caller
		// still reads (Released) stay intact.
		b.put()
		held.release(math.MaxInt, (*batch).put)
		for range len(free) {
			(<-free).put()
		}
		return end
	}
}

// holdBatch takes in the validated batch b, and returns to the reader (on
// free) the batches no kept segment lies in any more.
func (st *state) holdBatch(held *held[*batch], b *batch, free chan<- *batch) {
	v := st.v
	if !v.KeepSegments {
		free <- b
		return
	}
	// b's segments belong to the sets started so far.
	held.hold(st.started, b)
	if !v.ReuseSegments {
		return // kept to the end
	}
	held.release(st.released(), func(b *batch) {
		select {
		case free <- b:
		default: // the reader has enough spares
			b.put()
		}
	})
}

func (st *state) note(n *note) {
	if n.delims != nil {
		st.isaDelims = *n.delims
		return
	}
	st.readerWarning(n.off, n.msg)
}

// end closes the validation when rd's Next returned err.
func (st *state) end(rd *Reader, err error) error {
	if err == io.EOF {
		st.finish(rd.Offset())
		return nil
	}
	var pe *ParseError
	if !errors.As(err, &pe) {
		return err
	}
	st.fatal(pe)
	st.finish(rd.Offset())
	if rd.srcErr != nil && !errors.Is(rd.srcErr, io.EOF) {
		return fmt.Errorf("reading input: %w", rd.srcErr)
	}
	return nil
}
