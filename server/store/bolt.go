package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// FileName is the bbolt file Open creates in the data folder.
const FileName = "tailor.db"

// The file's layout. Integers are big-endian so bbolt's byte order is numeric order.
//
//	versions  8-byte version number          -> JSON of Version
//	counts    counter key, 0x00, 4-byte window -> 8-byte sum
//	batches   8-byte batch id                 -> 8-byte Unix seconds when it was counted
//
// Counter keys never hold 0x00 (rule-set ids refuse control characters), so the separator is unambiguous.
var (
	bucketVersions = []byte("versions")
	bucketCounts   = []byte("counts")
	bucketBatches  = []byte("batches")
)

// Bolt is the embedded Store: one bbolt file.
type Bolt struct {
	db  *bolt.DB
	now func() time.Time
}

// Open opens (or creates) the store in dir, creating dir when needed. It waits at most a second for another
// process holding the file, so a second server on the same folder fails fast instead of hanging.
func Open(dir string) (*Bolt, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	db, err := bolt.Open(filepath.Join(dir, FileName), 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("store: opening %s: %w", filepath.Join(dir, FileName), err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketVersions, bucketCounts, bucketBatches} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: %w", err)
	}
	return &Bolt{db: db, now: time.Now}, nil
}

func u64(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

// AppendVersion implements Store.
func (s *Bolt) AppendVersion(v *Version) error {
	rec, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketVersions)
		var latest uint64
		if k, _ := b.Cursor().Last(); k != nil {
			latest = binary.BigEndian.Uint64(k)
		}
		if v.Number != latest+1 {
			return ErrVersionConflict
		}
		return b.Put(u64(v.Number), rec)
	})
	if err != nil {
		return fmt.Errorf("store: appending version %d: %w", v.Number, err)
	}
	return nil
}

// Version implements Store.
func (s *Bolt) Version(n uint64) (*Version, error) {
	var v *Version
	err := s.db.View(func(tx *bolt.Tx) error {
		rec := tx.Bucket(bucketVersions).Get(u64(n))
		if rec == nil {
			return ErrNotFound
		}
		var err error
		v, err = decodeVersion(rec)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: version %d: %w", n, err)
	}
	return v, nil
}

// Versions implements Store.
func (s *Bolt) Versions() ([]*Version, error) {
	var out []*Version
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketVersions).ForEach(func(_, rec []byte) error {
			v, err := decodeVersion(rec)
			if err != nil {
				return err
			}
			out = append(out, v)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: versions: %w", err)
	}
	return out, nil
}

func decodeVersion(rec []byte) (*Version, error) {
	v := &Version{}
	if err := json.Unmarshal(rec, v); err != nil {
		return nil, errors.Join(ErrCorrupt, err)
	}
	return v, nil
}

func countKey(key string, window uint32) []byte {
	k := make([]byte, 0, len(key)+5)
	k = append(k, key...)
	k = append(k, 0)
	return binary.BigEndian.AppendUint32(k, window)
}

// AddBatch implements Store. Concurrent calls are committed together (bbolt's Batch), so many clients cost
// one fsync, not one each; bbolt may run the function again after a failure, which the id check makes safe.
func (s *Bolt) AddBatch(id uint64, adds []Add) (bool, error) {
	var dup bool
	err := s.db.Batch(func(tx *bolt.Tx) error {
		dup = false
		batches := tx.Bucket(bucketBatches)
		if batches.Get(u64(id)) != nil {
			dup = true
			return nil
		}
		counts := tx.Bucket(bucketCounts)
		for _, a := range adds {
			k := countKey(a.Key, a.Window)
			var sum uint64
			if old := counts.Get(k); len(old) == 8 {
				sum = binary.BigEndian.Uint64(old)
			}
			if err := counts.Put(k, u64(sum+a.N)); err != nil {
				return err
			}
		}
		return batches.Put(u64(id), u64(uint64(s.now().Unix())))
	})
	if err != nil {
		return false, fmt.Errorf("store: batch %d: %w", id, err)
	}
	return dup, nil
}

// PruneBatches implements Store.
func (s *Bolt) PruneBatches(t time.Time) (int, error) {
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketBatches).Cursor()
		for k, v := c.First(); k != nil; {
			if len(v) == 8 && int64(binary.BigEndian.Uint64(v)) < t.Unix() {
				key := append([]byte(nil), k...) // k points into a page that Delete changes
				if err := c.Delete(); err != nil {
					return err
				}
				n++
				k, v = c.Seek(key) // the first id after the one deleted
				continue
			}
			k, v = c.Next()
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: pruning batch ids: %w", err)
	}
	return n, nil
}

// Sums implements Store.
func (s *Bolt) Sums() ([]Sum, error) {
	var out []Sum
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketCounts).ForEach(func(k, v []byte) error {
			// The window's 4 bytes may hold zeros themselves: the separator is found from the end.
			i := len(k) - 5
			if i < 0 || k[i] != 0 || len(v) != 8 {
				return ErrCorrupt
			}
			out = append(out, Sum{
				Key:    string(k[:i]),
				Window: binary.BigEndian.Uint32(k[i+1:]),
				N:      binary.BigEndian.Uint64(v),
			})
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: sums: %w", err)
	}
	return out, nil
}

// Close implements Store.
func (s *Bolt) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}
