# SQLite 3.46.1: the amalgamation is generated once from Debian's source
# package (its security patches applied) with SQLite's own tool chain
# (configure; make sqlite3.c; needs tclsh), then compiled per board with the
# options of a durable embedded job log:
#   DEFAULT_SYNCHRONOUS=2 / DEFAULT_WAL_SYNCHRONOUS=2  FULL unless told otherwise
#   DEFAULT_WAL_AUTOCHECKPOINT=0   only the daemon checkpoints (DESIGN)
#   OMIT_LOAD_EXTENSION, DQS=0     no code loaded at run time, no "string" ids
#   DEFAULT_MEMSTATUS=0            no allocation statistics (a global mutex)
#   THREADSAFE=2                   multi-thread: a connection is used by one
#                                  thread at a time, no per-connection mutex;
#                                  the daemon checks the log after an unclean
#                                  stop on a thread with its own connection
#   MAX_MMAP_SIZE=0                plain read()/write(): predictable on flash
#   DEFAULT_FILE_PERMISSIONS=0600  the job log holds commands, env and output
#   ENABLE_DBPAGE_VTAB             consistent page-by-page snapshots
#   TEMP_STORE=2                   temporary tables in RAM, not on flash
#   ENABLE_MEMSYS5                 SQLite's own heap, outside what a forked
#                                  job inherits (firmware/log/jlog.c heap_init)
# SQLITE_NO_SYNC turns every fsync into a no-op: it would silently void the
# "acknowledged means durable" promise, so the build refuses it anywhere.

SQLITE_AMALG := build/sqlite/sqlite3.c
SQLITE_OPTS := -DSQLITE_DEFAULT_SYNCHRONOUS=2 -DSQLITE_DEFAULT_WAL_SYNCHRONOUS=2 \
	-DSQLITE_DEFAULT_WAL_AUTOCHECKPOINT=0 -DSQLITE_OMIT_LOAD_EXTENSION \
	-DSQLITE_DQS=0 -DSQLITE_DEFAULT_MEMSTATUS=0 -DSQLITE_THREADSAFE=2 \
	-DSQLITE_MAX_MMAP_SIZE=0 -DSQLITE_DEFAULT_FILE_PERMISSIONS=0600 -DSQLITE_ENABLE_DBPAGE_VTAB -DSQLITE_TEMP_STORE=2 -DSQLITE_ENABLE_MEMSYS5 \
	-DSQLITE_DEFAULT_FOREIGN_KEYS=1 -DSQLITE_LIKE_DOESNT_MATCH_BLOBS \
	-DSQLITE_OMIT_DEPRECATED -DSQLITE_OMIT_SHARED_CACHE -DSQLITE_OMIT_PROGRESS_CALLBACK \
	-DSQLITE_OMIT_AUTHORIZATION -DSQLITE_USE_ALLOCA -DSQLITE_OMIT_TCL_VARIABLE \
	-DHAVE_USLEEP=1 -DHAVE_LOCALTIME_R=1 -DHAVE_GMTIME_R=1 -DHAVE_STRCHRNUL=1

ifneq ($(findstring SQLITE_NO_SYNC,$(SQLITE_OPTS) $(CFLAGS) $(CPPFLAGS) $(EXTRA_CFLAGS)),)
$(error SQLITE_NO_SYNC is refused: it makes fsync a no-op and voids durability)
endif

$(SQLITE_AMALG): $(FETCH_STAMP) vendor/sqlite.mk
	@echo "  AMALG   sqlite3.c"
	@command -v tclsh >/dev/null || { echo "tclsh not found: run tools/install-deps"; exit 1; }
	@rm -rf build/sqlite && mkdir -p build/sqlite/gen
	@cd build/sqlite/gen && CC=$(HOSTCC) $(CURDIR)/$(VSRC)/sqlite3/configure --disable-shared \
		>../configure.log 2>&1 && $(MAKE) -s sqlite3.c >../build.log 2>&1 || \
		{ tail -n 20 ../configure.log ../build.log; exit 1; }
	@cp build/sqlite/gen/sqlite3.h build/sqlite/sqlite3.h
	@cp build/sqlite/gen/sqlite3.c $@

build/sqlite/sqlite3.h: $(SQLITE_AMALG)

$(B)/vendor/sqlite3.o: $(SQLITE_AMALG) $(MUSL_STAMP)
	@mkdir -p $(@D)
	@echo "  CC      $<"
	@$(CC) $(CPU_FLAGS) $(OPT) $(BASE_CFLAGS) $(SQLITE_OPTS) -w -c $< -o $@

VENDOR_OBJS += $(B)/vendor/sqlite3.o
