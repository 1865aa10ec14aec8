package store

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Restore writes an archive made by Backup into the store, which must hold no document at all
// (ErrNotEmpty otherwise; the collections a store creates empty at Open are fine). The archive is
// read and checked whole first, nothing written when anything in it is amiss (ErrBadArchive); then it
// is read again, from the start when r can seek, else from a temporary copy (os.TempDir), and every
// document goes to its physical home in this store: journal lines into their day's partition,
// checkpoints into their shard, inbox events into the bucket of their arrival, the rest as they
// were. The archive's manifest is returned.
func (s *Store) Restore(ctx context.Context, r io.Reader) (Manifest, error) {
	if err := s.checkEmpty(ctx); err != nil {
		return Manifest{}, err
	}
	check := func(m Manifest) error {
		for _, c := range m.Collections {
			if s.logicalName(c.Name) != c.Name {
				return fmt.Errorf("%w: %s is a physical collection, not a logical one", ErrBadArchive, c.Name)
			}
		}
		return nil
	}
	var again io.Reader
	if rs, ok := r.(io.ReadSeeker); ok {
		start, err := rs.Seek(0, io.SeekCurrent)
		if err != nil {
			return Manifest{}, fmt.Errorf("restore: %w", err)
		}
		if _, err := readArchive(rs, check, nil, nil); err != nil {
			return Manifest{}, err
		}
		if _, err := rs.Seek(start, io.SeekStart); err != nil {
			return Manifest{}, fmt.Errorf("restore: %w", err)
		}
		again = rs
	} else {
		tmp, err := os.CreateTemp("", ".privacybot-restore-")
		if err != nil {
			return Manifest{}, fmt.Errorf("restore: %w", err)
		}
		defer func() { _ = tmp.Close(); _ = os.Remove(tmp.Name()) }()
		bw := bufio.NewWriterSize(tmp, 1<<20)
		if _, err := readArchive(io.TeeReader(r, bw), check, nil, nil); err != nil {
			return Manifest{}, err
		}
		if err := bw.Flush(); err != nil {
			return Manifest{}, fmt.Errorf("restore: %w", err)
		}
		if _, err := tmp.Seek(0, io.SeekStart); err != nil {
			return Manifest{}, fmt.Errorf("restore: %w", err)
		}
		again = tmp
	}
	w := &restorer{s: s, ctx: ctx}
	m, err := readArchive(again, check, w.add, w.flush)
	if err != nil {
		if errors.Is(err, ErrBadArchive) {
			err = fmt.Errorf("the archive changed while it was being restored: %w", err)
		}
		return m, fmt.Errorf("%w (empty it before trying again): %w", ErrPartlyRestored, err)
	}
	return m, nil
}

// checkEmpty fails with ErrNotEmpty when any collection holds a document.
func (s *Store) checkEmpty(ctx context.Context) error {
	names, err := s.collectionNames(ctx)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	for _, n := range names {
		err := s.db.Collection(n).FindOne(ctx, bson.D{}, options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}})).Err()
		if err == nil {
			return fmt.Errorf("%w (%s holds documents)", ErrNotEmpty, s.logicalName(n))
		}
		if !errors.Is(err, mongo.ErrNoDocuments) {
			return fmt.Errorf("restore: %w", err)
		}
	}
	return nil
}

// restoreBatch bounds the documents (and bytes) of one write; checkpoints are written a shard at a
// time, so they are gathered over more documents.
const (
	restoreBatch      = 1000
	restoreConvBatch  = 16 * restoreBatch
	restoreBatchBytes = 8 << 20
)

// restorer writes an archive's documents to their physical homes, in batches.
type restorer struct {
	s   *Store
	ctx context.Context

	docs    []any
	at      []time.Time // journal: the time that places each document
	n       int         // documents gathered
	bytes   int
	byShard map[string][]any // checkpoints, by shard
	inbox   []bson.Raw       // the inbox: placed at the end of its entry (markers go with their events)
	created map[string]bool  // collections made ready (embedded engine)
}

func (w *restorer) journal(name string) *partitioned {
	switch name {
	case colSteps:
		return w.s.steps
	case colDeliveries:
		return w.s.deliveries
	case colTranscript:
		return w.s.transcript
	case colQuestions:
		return w.s.questions
	}
	return nil
}

func (w *restorer) add(c CollectionInfo, doc bson.Raw) error {
	limit := restoreBatch
	switch p := w.journal(c.Name); {
	case c.Name == colInbox:
		w.inbox = append(w.inbox, doc)
		return nil
	case c.Name == colConversations:
		id, ok := doc.Lookup("_id").StringValueOK()
		if !ok {
			return fmt.Errorf("%w: a checkpoint whose _id is not a string", ErrBadArchive)
		}
		if w.byShard == nil {
			w.byShard = map[string][]any{}
		}
		shard := w.s.convColl(id).Name()
		w.byShard[shard] = append(w.byShard[shard], doc)
		w.s.known.add(id)
		limit = restoreConvBatch
	case p != nil:
		t, ok := doc.Lookup(p.field).TimeOK()
		if !ok {
			t, _ = doc.Lookup("at").TimeOK() // as partitionLegacy places it
		}
		w.at = append(w.at, t)
		w.docs = append(w.docs, doc)
	default:
		w.docs = append(w.docs, doc)
	}
	w.n++
	w.bytes += len(doc)
	if w.n >= limit || w.bytes >= restoreBatchBytes {
		return w.write(c.Name)
	}
	return nil
}

// flush writes what is left of a collection at the end of its entry.
func (w *restorer) flush(c CollectionInfo) error {
	if c.Name == colInbox {
		return w.writeInbox()
	}
	return w.write(c.Name)
}

// write writes the batch gathered for collection name.
func (w *restorer) write(name string) error {
	defer func() { w.docs, w.at, w.n, w.bytes, w.byShard = w.docs[:0], w.at[:0], 0, 0, nil }()
	if p := w.journal(name); p != nil {
		if len(w.docs) == 0 {
			return nil
		}
		errs, err := p.insert(w.ctx, w.at, w.docs...) // the appenders take the write turn
		if err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
		for _, e := range errs {
			if e != nil {
				return fmt.Errorf("write %s: %w", name, e)
			}
		}
		return nil
	}
	if name == colConversations {
		shards := make([]string, 0, len(w.byShard))
		for shard := range w.byShard {
			shards = append(shards, shard)
		}
		slices.Sort(shards)
		for _, shard := range shards {
			if err := w.insert(shard, w.byShard[shard]); err != nil {
				return err
			}
		}
		return nil
	}
	return w.insert(name, w.docs)
}

// insert inserts documents into a physical collection, taking the write turn per batch. On the
// embedded engine the collection is created first, with the lookup index where the store keeps one.
func (w *restorer) insert(coll string, docs []any) error {
	s := w.s
	if len(docs) == 0 {
		return nil
	}
	if s.embedded != nil && !w.created[coll] {
		if err := s.createCollection(w.ctx, coll, !noLookups(coll)); err != nil {
			return err
		}
		if w.created == nil {
			w.created = map[string]bool{}
		}
		w.created[coll] = true
	}
	unlock := s.lockWrites()
	_, err := s.db.Collection(coll).InsertMany(w.ctx, docs)
	unlock()
	if err != nil {
		return fmt.Errorf("write %s: %w", s.logicalName(coll), err)
	}
	return nil
}

// writeInbox writes the inbox: each event into the bucket of its arrival, each marker of handled
// events into the bucket of the events it lists (a marker has no arrival time of its own), or of its
// own time when none of them is there. The buckets are written behind the store's back, not through
// inboxAppender, which would take them for this run's own: the next start finds them as buckets left
// by an earlier run and resumes the events their markers do not list.
func (w *restorer) writeInbox() error {
	defer func() { w.inbox = nil }()
	if w.s.SharedInbox() {
		return w.writeSharedInbox()
	}
	bucketOfEvent := map[string]int64{}
	for _, doc := range w.inbox {
		if kind, _ := doc.Lookup("kind").StringValueOK(); kind == handledMarkerKind {
			continue
		}
		id, _ := doc.Lookup("_id").StringValueOK()
		recv, _ := doc.Lookup("recv").TimeOK()
		if _, ok := bucketOfEvent[id]; !ok {
			bucketOfEvent[id] = bucketOf(recv)
		}
	}
	byBucket := map[int64][]any{}
	var order []int64
	for _, doc := range w.inbox {
		recv, _ := doc.Lookup("recv").TimeOK()
		b := bucketOf(recv)
		if kind, _ := doc.Lookup("kind").StringValueOK(); kind == handledMarkerKind {
			if arr, ok := doc.Lookup("handled").ArrayOK(); ok {
				vals, _ := arr.Values()
				for _, v := range vals {
					if id, ok := v.StringValueOK(); ok {
						if eb, ok := bucketOfEvent[id]; ok {
							b = eb
							break
						}
					}
				}
			}
		}
		if _, ok := byBucket[b]; !ok {
			order = append(order, b)
		}
		byBucket[b] = append(byBucket[b], doc)
	}
	for _, b := range order {
		for docs := byBucket[b]; len(docs) > 0; {
			n := min(len(docs), restoreBatch)
			if err := w.insert(bucketName(b), docs[:n]); err != nil {
				return err
			}
			docs = docs[n:]
		}
	}
	return nil
}

// writeSharedInbox writes the inbox of a MongoDB store: the events no marker lists as handled, into
// the one shared collection (an archive of the embedded store has buckets and markers; one of
// MongoDB has neither).
func (w *restorer) writeSharedInbox() error {
	handled := map[string]bool{}
	for _, doc := range w.inbox {
		if kind, _ := doc.Lookup("kind").StringValueOK(); kind != handledMarkerKind {
			continue
		}
		if arr, ok := doc.Lookup("handled").ArrayOK(); ok {
			vals, _ := arr.Values()
			for _, v := range vals {
				if id, ok := v.StringValueOK(); ok {
					handled[id] = true
				}
			}
		}
	}
	var docs []any
	for _, doc := range w.inbox {
		kind, _ := doc.Lookup("kind").StringValueOK()
		id, _ := doc.Lookup("_id").StringValueOK()
		if kind != handledMarkerKind && !handled[id] {
			docs = append(docs, doc)
		}
	}
	for len(docs) > 0 {
		n := min(len(docs), restoreBatch)
		if err := w.insert(colInbox, docs[:n]); err != nil {
			return err
		}
		docs = docs[n:]
	}
	return nil
}
