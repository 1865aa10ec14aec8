package store

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// spools are the logical collections being read, each into a file of its own.
type spools struct {
	dir    string
	byName map[string]*spool
}

type spool struct {
	info CollectionInfo
	f    *os.File
	bw   *bufio.Writer
	h    hash.Hash
}

func (sp *spools) get(name string) (*spool, error) {
	if c := sp.byName[name]; c != nil {
		return c, nil
	}
	path := filepath.Join(sp.dir, fmt.Sprintf("%03d.bson", len(sp.byName)))
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	c := &spool{info: CollectionInfo{Name: name, Entry: entryPrefix + name + entrySuffix}, f: f,
		bw: bufio.NewWriterSize(f, 1<<20), h: sha256.New()}
	sp.byName[name] = c
	return c, nil
}

func (c *spool) add(doc []byte) error {
	c.info.Documents++
	c.info.Bytes += int64(len(doc))
	c.h.Write(doc)
	_, err := c.bw.Write(doc)
	return err
}

// infos lists the collections by name, with their counts and checksums (after finish).
func (sp *spools) infos() []CollectionInfo {
	out := make([]CollectionInfo, 0, len(sp.byName))
	for _, c := range sp.byName {
		out = append(out, c.info)
	}
	slices.SortFunc(out, func(a, b CollectionInfo) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func (sp *spools) finish() error {
	for _, c := range sp.byName {
		if err := c.bw.Flush(); err != nil {
			return err
		}
		c.info.SHA256 = hex.EncodeToString(c.h.Sum(nil))
	}
	return nil
}

func (sp *spools) close() {
	for _, c := range sp.byName {
		_ = c.f.Close()
	}
}

// collectionNames lists the store's collections, without the server's own (system.*).

// writeArchive writes the manifest, then every spooled collection.
func writeArchive(w io.Writer, m Manifest, sp *spools) error {
	manifest, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	manifest = append(manifest, '\n')
	gz, err := gzip.NewWriterLevel(w, gzip.DefaultCompression)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(gz)
	hdr := func(name string, size int64) *tar.Header {
		return &tar.Header{Typeflag: tar.TypeReg, Name: name, Size: size, Mode: 0o600, ModTime: m.Created}
	}
	if err := tw.WriteHeader(hdr(manifestEntry, int64(len(manifest)))); err != nil {
		return err
	}
	if _, err := tw.Write(manifest); err != nil {
		return err
	}
	for _, info := range m.Collections {
		c := sp.byName[info.Name]
		if err := tw.WriteHeader(hdr(info.Entry, info.Bytes)); err != nil {
			return err
		}
		if _, err := c.f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		if _, err := io.Copy(tw, bufio.NewReaderSize(c.f, 1<<20)); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

// maxDocument is the largest document an archive may hold (MongoDB's limit).
const maxDocument = 16 << 20

// validName is what a collection of an archive may be called.
var validName = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,119}$`)

// readArchive reads an archive whole and checks it: the manifest (format, version, names), every
// entry in the manifest's order with its size, document count and checksum, each document's BSON,
// nothing after the last entry, and gzip's own checksum at the end. checkManifest may refuse the
// manifest before any entry is read; visit gets every document (nil: only check), and done is called
// at the end of each entry once it checked out. Every failure wraps ErrBadArchive unless it came from
// visit or done.
func readArchive(r io.Reader, checkManifest func(Manifest) error, visit func(CollectionInfo, bson.Raw) error,
	done func(CollectionInfo) error) (Manifest, error) {
	var m Manifest
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrBadArchive, fmt.Sprintf(format, a...))
	}
	gz, err := gzip.NewReader(bufio.NewReaderSize(r, 1<<20))
	if err != nil {
		return m, bad("%v", err)
	}
	tr := tar.NewReader(gz)
	h, err := tr.Next()
	if err != nil {
		return m, bad("%v", err)
	}
	if h.Name != manifestEntry || h.Size > 1<<20 {
		return m, bad("the first entry is %q, not the manifest", h.Name)
	}
	raw, err := io.ReadAll(tr)
	if err != nil {
		return m, bad("manifest: %v", err)
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return m, bad("manifest: %v", err)
	}
	if m.Format != BackupFormat {
		return m, bad("format %q", m.Format)
	}
	if m.Version != BackupFormatVersion {
		return m, bad("format version %d; this program reads version %d", m.Version, BackupFormatVersion)
	}
	seen := map[string]bool{}
	for _, c := range m.Collections {
		if !validName.MatchString(c.Name) || strings.HasPrefix(c.Name, "system.") || seen[c.Name] {
			return m, bad("collection name %q", c.Name)
		}
		seen[c.Name] = true
		if c.Entry != entryPrefix+c.Name+entrySuffix || c.Documents < 0 || c.Bytes < 0 {
			return m, bad("collection %s: entry %q, %d documents, %d bytes", c.Name, c.Entry, c.Documents, c.Bytes)
		}
	}
	if checkManifest != nil {
		if err := checkManifest(m); err != nil {
			return m, err
		}
	}
	for _, c := range m.Collections {
		h, err := tr.Next()
		if err != nil {
			return m, bad("entry %s: %v", c.Entry, err)
		}
		if h.Name != c.Entry || h.Size != c.Bytes || h.Typeflag != tar.TypeReg {
			return m, bad("entry %q (%d bytes) where the manifest has %s (%d bytes)", h.Name, h.Size, c.Entry, c.Bytes)
		}
		sum := sha256.New()
		n, err := readDocuments(io.TeeReader(tr, sum), func(doc bson.Raw) error {
			if visit == nil {
				return nil
			}
			return visit(c, doc)
		})
		if err != nil {
			var de docError
			if errors.As(err, &de) {
				return m, bad("collection %s: %v", c.Name, de.err)
			}
			return m, err
		}
		if n != c.Documents {
			return m, bad("collection %s holds %d documents, the manifest says %d", c.Name, n, c.Documents)
		}
		if got := hex.EncodeToString(sum.Sum(nil)); got != c.SHA256 {
			return m, bad("collection %s: checksum %s, the manifest says %s", c.Name, got, c.SHA256)
		}
		if done != nil {
			if err := done(c); err != nil {
				return m, err
			}
		}
	}
	if h, err := tr.Next(); err != io.EOF {
		if err == nil {
			return m, bad("entry %q is not in the manifest", h.Name)
		}
		return m, bad("after the last entry: %v", err)
	}
	// The rest of the gzip stream (tar's padding), then gzip's CRC and length: a truncated or altered
	// file fails here at the latest.
	if _, err := io.Copy(io.Discard, gz); err != nil {
		return m, bad("%v", err)
	}
	if err := gz.Close(); err != nil {
		return m, bad("%v", err)
	}
	return m, nil
}

// docError is a malformed document in an entry (as opposed to an error of the visitor).
type docError struct{ err error }

func (e docError) Error() string { return e.err.Error() }

// readDocuments reads concatenated BSON documents to the end of r, checking each.
func readDocuments(r io.Reader, visit func(bson.Raw) error) (int64, error) {
	var n int64
	var size [4]byte
	for {
		if _, err := io.ReadFull(r, size[:]); err != nil {
			if err == io.EOF {
				return n, nil
			}
			return n, docError{fmt.Errorf("document %d: %v", n+1, err)}
		}
		l := binary.LittleEndian.Uint32(size[:])
		if l < 5 || l > maxDocument {
			return n, docError{fmt.Errorf("document %d: length %d", n+1, l)}
		}
		doc := make([]byte, l)
		copy(doc, size[:])
		if _, err := io.ReadFull(r, doc[4:]); err != nil {
			return n, docError{fmt.Errorf("document %d: %v", n+1, err)}
		}
		if err := bson.Raw(doc).Validate(); err != nil {
			return n, docError{fmt.Errorf("document %d: %v", n+1, err)}
		}
		n++
		if err := visit(doc); err != nil {
			return n, err
		}
	}
}
