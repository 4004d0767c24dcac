//! The ways the emulated server can break the contract, each aimed at one rule,
//! and the rules each is expected to make fail (or warn).

use ifmatch_conformance::rules::Profile;

/// Declares [`Fault`] and [`Fault::ALL`] from one list, so a fault cannot be added to one and
/// forgotten in the other.
macro_rules! faults {
    ($($fault:ident,)*) => {
        /// One deliberate defect of the emulated server.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Fault {
            $($fault,)*
        }

        impl Fault {
            /// Every fault, so that a test can prove each rule has one.
            pub const ALL: &'static [Fault] = &[$(Fault::$fault,)*];
        }
    };
}

faults! {
    CreateReturns200,
    CreateWithoutEtag,
    WeakEtags,
    EtagDriftsOnRepeatedReads,
    EtagUnchangedOnPut,
    EtagUnchangedOnPatch,
    NoEtagOnWrite,
    WrongEtagOnWrite,
    HeadWithoutEtag,
    IgnoreIfNoneMatch,
    AlwaysNotModified,
    RejectCurrentPut,
    RejectCurrentPatch,
    PatchReplaces,
    RejectCurrentDelete,
    StalePutAccepted,
    StalePatchAccepted,
    StaleDeleteAccepted,
    RefuseStalePutButApply,
    WeakComparisonForIfMatch,
    RejectIfMatchStar,
    PutCannotCreate,
    IgnoreIfNoneMatchOnPut,
    IfMatchStarCreates,
    IfMatchTagCreates,
    PreconditionBeforeNotFound,
    PlainTextErrors,
    ProblemStatusMismatch,
    ProblemWithoutType,
    NoCurrentEtagOnConflict,
    IgnoresPreferRepresentation,
    RepresentationEchoesRequest,
    AcceptMalformedJson,
    LenientIfMatchParsing,
    StaleReadCache,
    AllowUnconditionalPut,
    AllowUnconditionalPatch,
    AllowUnconditionalDelete,
    Bare428,
    RetryAfterMissing,
    InconsistentRateLimitFields,
    PlainText429,
    NeverRecovers,
    LockGrant200,
    LockMissingCreates,
    TtlUncapped,
    BusyWithoutRetryAfter,
    WritesIgnoreLock,
    TokenSkipsIfMatch,
    StaleTokenAccepted,
    ReadsLocked,
    ExpiredLockStillBusy,
    RenewDoesNotExtend,
    ReleaseWithAnyToken,
    TokensReused,
    RacyGrant,
    QueueByDeadline,
    QueueFullAnswers423,
    BatchWrongTags,
    BatchOpsSeeOriginal,
    BatchLidRefsIgnored,
    BatchPartialOnStale,
    BatchProblemWithoutOperation,
    BatchMissingSkipped,
    BatchIgnoresLocks,
    TxBegin200,
    TxDirtyReads,
    TxReadsMissOwnWrites,
    TxReadsCommitted,
    TxCommitSkipsDeletes,
    TxWriteSkew,
    TxRollbackCommits,
    TxNeverExpires,
    TxRecommitApplies,
    TxUnknownIdIgnored,
    TxRacyCommit,
    TxCommitIgnoresLocks,
    HistoryMissesCreate,
    PastVersionWrongBody,
    RestoreRewindsHistory,
    UnknownVersionAnyDoc,
    TombstoneMissing,
    V1PrefixMissing,
    ApiHeaderIgnored,
    NoVary,
    UnknownApiVersionServedAsV1,
    V2SharesV1Tag,
    CrossTagStaleAccepted,
    DeprecationAsDate,
    VersionHeaderMissingOnWrites,
    BodyVersionCurrentRefused,
    BodyVersionStaleAccepted,
    VersionZeroIgnored,
    RecordNamesCurrentAsBase,
    LogIgnoresFilter,
    StreamIgnoresFilter,
    ResumeRepeatsLastEvent,
    StreamIgnoresPrefix,
    ListIgnoresState,
    ResumeQueryIgnored,
    NoHeartbeat,
    ResolveMineKeepsCurrent,
    ResolveTheirsApplies,
    ResolveMergedWritesMine,
    ResolveIgnoresChanges,
    ResolveTwiceApplies,
    AnonymousMayResolve,
    AnyClientMayResolve,
    AdminRefused,
    IfNoneMatchStarRefusedOnMissing,
    WeakIfNoneMatchIgnored,
    IfNoneMatchListIgnored,
    IfMatchListRefused,
    EtagOn412ForMissing,
    ConflictEtagHashesBody,
    InvalidIdRejected,
    JsonErrorBodies,
    MalformedJson422,
    IgnoreIfMatch,
    KeysIgnored,
    ReplayCreatesAgain,
    ReplayWritesAgain,
    ReusedKeyProcessed,
    DropsSentMember,
    RefusalTouchesUpdatedAt,
    RefusalBumpsVersion,
}

/// The concurrency rules judge the same compare-and-swap as the stale-write
/// rules, under contention: a server that accepts stale writes breaks both.
const CAS: [&str; 2] = [
    "core.concurrency.single-winner",
    "core.concurrency.no-lost-update",
];

impl Fault {
    /// Rules this fault must make fail (MUST) or warn (SHOULD); every other rule
    /// must pass, be non-strict/info, or be skipped because a prerequisite broke.
    pub fn breaks(self) -> Vec<&'static str> {
        use Fault::*;
        let one = |id: &'static str| vec![id];
        match self {
            CreateReturns200 => one("core.create.post-201"),
            CreateWithoutEtag => one("core.create.etag"),
            // The 201's weak ETag also cannot equal a strong one.
            WeakEtags => vec!["core.etag.strong-on-get", "core.create.etag"],
            EtagDriftsOnRepeatedReads => one("core.etag.stable-without-change"),
            // Writers racing at an ETag that no write changes all win: the races
            // show the lost updates directly.
            EtagUnchangedOnPut => [&["core.etag.changes-on-put"][..], &CAS].concat(),
            EtagUnchangedOnPatch => one("core.etag.changes-on-patch"),
            NoEtagOnWrite => one("core.write.returns-etag"),
            WrongEtagOnWrite => one("core.write.etag-matches-get"),
            HeadWithoutEtag => one("core.head.etag-matches-get"),
            IgnoreIfNoneMatch => one("core.if-none-match.not-modified"),
            AlwaysNotModified => one("core.if-none-match.modified"),
            // It refuses every tagged PUT the same bare way, the stale one asking for the
            // current representation too.
            RejectCurrentPut => vec!["core.if-match.current-put", "core.conflict.representation"],
            RejectCurrentPatch => one("core.if-match.current-patch"),
            PatchReplaces => one("core.patch.merge-semantics"),
            RejectCurrentDelete => one("core.if-match.current-delete"),
            StalePutAccepted => [&["core.if-match.stale-put"][..], &CAS].concat(),
            // Refused writers that still apply write the same counter value as the
            // winner, so no acknowledged increment is lost; only the body race shows.
            RefuseStalePutButApply => vec!["core.if-match.stale-put", CAS[0]],
            StalePatchAccepted => one("core.if-match.stale-patch"),
            StaleDeleteAccepted => one("core.if-match.stale-delete"),
            WeakComparisonForIfMatch => one("core.if-match.weak-refused"),
            RejectIfMatchStar => one("core.if-match.star-existing"),
            // A server that does not create by PUT is not judged on conditional PUTs to
            // missing URLs (RFC 9110 §13.2.1): those rules are skipped, saying why.
            PutCannotCreate => vec![],
            IfNoneMatchStarRefusedOnMissing => one("core.if-none-match.star-creates"),
            IgnoreIfNoneMatchOnPut => one("core.if-none-match.star-existing"),
            IfMatchStarCreates => one("core.if-match.star-missing"),
            IfMatchTagCreates => one("core.precondition.missing-put-412"),
            PreconditionBeforeNotFound => one("core.precondition.not-found-wins"),
            // A text body has no member to carry the current representation.
            PlainTextErrors => vec!["errors.problem.media-type", "core.conflict.representation"],
            ProblemStatusMismatch => one("errors.problem.status-member"),
            ProblemWithoutType => one("errors.problem.type-uri"),
            // Not problem+json, so the problem members are not judged (skipped).
            // Its error shape has no place for the current representation.
            JsonErrorBodies => vec!["errors.problem.media-type", "core.conflict.representation"],
            NoCurrentEtagOnConflict => one("core.conflict.current-etag"),
            IgnoresPreferRepresentation | RepresentationEchoesRequest => {
                one("core.conflict.representation")
            }
            AcceptMalformedJson => one("core.bad-input.malformed-json"),
            MalformedJson422 => one("core.bad-input.malformed-json"),
            WeakIfNoneMatchIgnored => one("core.if-none-match.weak-comparison"),
            IfNoneMatchListIgnored => one("core.if-none-match.list"),
            IfMatchListRefused => one("core.if-match.list"),
            EtagOn412ForMissing => one("core.precondition.missing-412-no-etag"),
            ConflictEtagHashesBody => one("core.conflict.current-etag"),
            // Invented ids are refused as invalid: rules that need a missing URL are
            // skipped, saying how to declare a valid one.
            InvalidIdRejected => vec![],
            LenientIfMatchParsing => one("core.bad-input.malformed-if-match"),
            StaleReadCache => CAS.to_vec(),
            // Every conditional write is unconditional: stale and weak tags win,
            // a PUT with If-Match to a missing URL creates, and racers all win.
            IgnoreIfMatch => [
                &[
                    "core.if-match.honoured",
                    "core.if-match.stale-put",
                    "core.if-match.stale-patch",
                    "core.if-match.stale-delete",
                    "core.if-match.weak-refused",
                    "core.if-match.star-missing",
                    "core.precondition.missing-put-412",
                    "core.bad-input.malformed-if-match",
                ][..],
                &CAS,
            ]
            .concat(),
            // A PUT that stores less than was sent, seen by content.
            DropsSentMember => vec!["core.if-match.current-put", "core.if-match.star-existing"],
            // Checked on the shape that adds `updated_at` (tests/shapes.rs): a refused
            // write that changes it changes the resource, unless `[body] ignore` names it.
            // Its 412 carries the representation from before the change.
            RefusalTouchesUpdatedAt => vec![
                "core.if-match.honoured",
                "core.if-match.stale-put",
                "core.if-match.weak-refused",
                "core.bad-input.malformed-if-match",
                "core.conflict.representation",
            ],
            // Same content, a new ETag that stays: a refused write that wrote anyway.
            // The 412 also names the ETag from before the bump, which a re-read refutes.
            RefusalBumpsVersion => vec![
                "core.if-match.honoured",
                "core.if-match.stale-put",
                "core.if-match.weak-refused",
                "core.bad-input.malformed-if-match",
                "core.conflict.current-etag",
            ],
            AllowUnconditionalPut => one("require-preconditions.put-428"),
            AllowUnconditionalPatch => one("require-preconditions.patch-428"),
            AllowUnconditionalDelete => one("require-preconditions.delete-428"),
            Bare428 => one("require-preconditions.names-if-match"),
            RetryAfterMissing => one("rate-limit.retry-after"),
            InconsistentRateLimitFields => one("rate-limit.fields-consistent"),
            PlainText429 => one("rate-limit.problem-json"),
            NeverRecovers => one("rate-limit.recovers"),
            LockGrant200 => one("locking.acquire-201"),
            LockMissingCreates => one("locking.acquire-missing-404"),
            TtlUncapped => one("locking.ttl-capped"),
            BusyWithoutRetryAfter => one("locking.busy-423"),
            WritesIgnoreLock => one("locking.write-without-token-423"),
            TokenSkipsIfMatch => one("locking.holder-writes"),
            StaleTokenAccepted => one("locking.stale-token-412"),
            ReadsLocked => one("locking.reads-unblocked"),
            ExpiredLockStillBusy => one("locking.expiry"),
            RenewDoesNotExtend => one("locking.renew"),
            ReleaseWithAnyToken => one("locking.release"),
            TokensReused => one("locking.token-unique"),
            RacyGrant => one("locking.mutual-exclusion"),
            QueueByDeadline => one("locking.queue-fifo"),
            QueueFullAnswers423 => one("locking.queue-full-503"),
            BatchWrongTags => one("transactions.batch-commits"),
            BatchOpsSeeOriginal => one("transactions.batch-order"),
            BatchLidRefsIgnored => one("transactions.batch-lid-ref"),
            BatchPartialOnStale => one("transactions.batch-all-or-nothing"),
            // The 423 of a locked operation must name it too.
            BatchProblemWithoutOperation => vec![
                "transactions.batch-names-operation",
                "transactions.batch-locked-423",
            ],
            BatchMissingSkipped => one("transactions.batch-missing-404"),
            BatchIgnoresLocks => one("transactions.batch-locked-423"),
            TxBegin200 => one("transactions.tx-begin-201"),
            TxDirtyReads => one("transactions.tx-isolation"),
            TxReadsMissOwnWrites => one("transactions.tx-read-own-writes"),
            TxReadsCommitted => one("transactions.tx-repeatable-read"),
            TxCommitSkipsDeletes => one("transactions.tx-commit-applies"),
            TxWriteSkew => one("transactions.tx-conflict-409"),
            TxRollbackCommits => one("transactions.tx-rollback"),
            TxNeverExpires => one("transactions.tx-expiry"),
            TxRecommitApplies => one("transactions.tx-commit-idempotent"),
            TxUnknownIdIgnored => one("transactions.tx-unknown-404"),
            TxRacyCommit => one("transactions.concurrency.serializable"),
            TxCommitIgnoresLocks => one("transactions.tx-commit-locked-423"),
            HistoryMissesCreate => one("versions.history-lists-writes"),
            PastVersionWrongBody => one("versions.read-past-version"),
            RestoreRewindsHistory => one("versions.restore"),
            UnknownVersionAnyDoc => one("versions.unknown-version-404"),
            TombstoneMissing => one("versions.tombstone"),
            V1PrefixMissing => one("versions.api-prefix"),
            ApiHeaderIgnored => one("versions.api-header"),
            NoVary => one("versions.api-header"),
            UnknownApiVersionServedAsV1 => one("versions.api-unknown"),
            V2SharesV1Tag => one("versions.etag-per-representation"),
            CrossTagStaleAccepted => one("versions.cross-etag-stale"),
            DeprecationAsDate => one("versions.deprecation-headers"),
            VersionHeaderMissingOnWrites => one("versions.version-visible"),
            BodyVersionCurrentRefused => one("versions.body-version-current"),
            BodyVersionStaleAccepted => one("versions.body-version-stale"),
            VersionZeroIgnored => one("versions.body-version-create-only"),
            RecordNamesCurrentAsBase => one("notifications.conflict-recorded"),
            LogIgnoresFilter => one("notifications.log-filter"),
            StreamIgnoresFilter => one("notifications.stream-delivers"),
            // Resuming through the query runs the same replay.
            ResumeRepeatsLastEvent => {
                vec![
                    "notifications.stream-resume",
                    "notifications.stream-resume-query",
                ]
            }
            StreamIgnoresPrefix => one("notifications.stream-prefix-filter"),
            ListIgnoresState => one("notifications.list-state-filter"),
            ResumeQueryIgnored => one("notifications.stream-resume-query"),
            NoHeartbeat => one("notifications.stream-heartbeat"),
            // The admin resolves as "mine" too, so a "mine" that writes nothing shows there.
            ResolveMineKeepsCurrent => {
                vec!["notifications.resolve-mine", "notifications.resolve-admin"]
            }
            ResolveTheirsApplies => one("notifications.resolve-theirs"),
            ResolveMergedWritesMine => one("notifications.resolve-merged"),
            ResolveIgnoresChanges => one("notifications.resolve-stale-refused"),
            ResolveTwiceApplies => one("notifications.resolve-twice-409"),
            AnonymousMayResolve => one("notifications.resolve-requires-auth"),
            AnyClientMayResolve => one("notifications.resolve-other-client-403"),
            AdminRefused => one("notifications.resolve-admin"),
            KeysIgnored => vec![
                "idempotency.replay-create",
                "idempotency.replay-conditional-write",
                "idempotency.key-reuse-422",
            ],
            ReplayCreatesAgain => one("idempotency.replay-create"),
            ReplayWritesAgain => one("idempotency.replay-conditional-write"),
            ReusedKeyProcessed => one("idempotency.key-reuse-422"),
        }
    }

    /// The profiles the fault's test checks (the profile of the broken rule,
    /// plus core so that collateral damage to core rules would show).
    pub fn profiles(self) -> Vec<Profile> {
        use Fault::*;
        match self {
            AllowUnconditionalPut
            | AllowUnconditionalPatch
            | AllowUnconditionalDelete
            | Bare428 => {
                vec![Profile::Core, Profile::RequirePreconditions]
            }
            RetryAfterMissing | InconsistentRateLimitFields | PlainText429 | NeverRecovers => {
                vec![Profile::RateLimit]
            }
            f if f.breaks().iter().any(|id| id.starts_with("errors.")) => {
                vec![Profile::Core, Profile::Errors]
            }
            f if f.breaks().iter().any(|id| id.starts_with("locking.")) => {
                vec![Profile::Core, Profile::Locking]
            }
            f if f.breaks().iter().any(|id| id.starts_with("transactions.")) => {
                vec![Profile::Core, Profile::Transactions]
            }
            f if f.breaks().iter().any(|id| id.starts_with("versions.")) => {
                vec![Profile::Core, Profile::Versions]
            }
            f if f.breaks().iter().any(|id| id.starts_with("idempotency.")) => {
                vec![Profile::Core, Profile::Idempotency]
            }
            f if f.breaks().iter().any(|id| id.starts_with("notifications.")) => {
                vec![Profile::Core, Profile::Notifications]
            }
            _ => vec![Profile::Core],
        }
    }
}
