CREATE TABLE `agencies` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`type` text NOT NULL,
	`municipality` text NOT NULL,
	`districts` text NOT NULL,
	`grants` text NOT NULL,
	`webhook_url` text,
	`status` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `agencies_municipality` ON `agencies` (`municipality`,`type`);--> statement-breakpoint
CREATE TABLE `agency_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`agency_id` text NOT NULL,
	`jwk` text NOT NULL,
	`alg` text NOT NULL,
	`created_at` text NOT NULL,
	`revoked_at` text,
	FOREIGN KEY (`agency_id`) REFERENCES `agencies`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `agency_keys_agency` ON `agency_keys` (`agency_id`);--> statement-breakpoint
CREATE TABLE `audit_log` (
	`seq` integer PRIMARY KEY NOT NULL,
	`at` text NOT NULL,
	`agency_id` text,
	`actor` text,
	`action` text NOT NULL,
	`subject` text,
	`resource` text,
	`outcome` text NOT NULL,
	`request_id` text,
	`prev_hash` text NOT NULL,
	`hash` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `audit_subject` ON `audit_log` (`subject`);--> statement-breakpoint
CREATE INDEX `audit_agency` ON `audit_log` (`agency_id`,`seq`);--> statement-breakpoint
CREATE TABLE `idempotency_keys` (
	`agency_id` text NOT NULL,
	`key` text NOT NULL,
	`fingerprint` text NOT NULL,
	`status` integer NOT NULL,
	`resource_id` text NOT NULL,
	`created_at` text NOT NULL,
	PRIMARY KEY(`agency_id`, `key`)
);
--> statement-breakpoint
CREATE INDEX `idempotency_created` ON `idempotency_keys` (`created_at`);--> statement-breakpoint
CREATE TABLE `meta` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `signals` (
	`id` text PRIMARY KEY NOT NULL,
	`agency_id` text NOT NULL,
	`subject_id` text NOT NULL,
	`kind` text NOT NULL,
	`status` text NOT NULL,
	`municipality` text NOT NULL,
	`district` text,
	`informed_status` text NOT NULL,
	`informed_exemption` text,
	`sealed` blob NOT NULL,
	`registered_at` text NOT NULL,
	`expires_at` text NOT NULL,
	`updated_at` text NOT NULL,
	`ended_at` text,
	`end_reason` text,
	FOREIGN KEY (`agency_id`) REFERENCES `agencies`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`subject_id`) REFERENCES `subjects`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `signals_one_active_per_agency` ON `signals` (`agency_id`,`subject_id`) WHERE "signals"."status" = 'active';--> statement-breakpoint
CREATE INDEX `signals_agency_status` ON `signals` (`agency_id`,`status`,`id`);--> statement-breakpoint
CREATE INDEX `signals_subject` ON `signals` (`subject_id`,`status`);--> statement-breakpoint
CREATE INDEX `signals_expiry` ON `signals` (`status`,`expires_at`);--> statement-breakpoint
CREATE TABLE `subjects` (
	`id` text PRIMARY KEY NOT NULL,
	`pseudonym` text NOT NULL,
	`wrapped_key` blob NOT NULL,
	`kek_version` integer NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `subjects_pseudonym_unique` ON `subjects` (`pseudonym`);--> statement-breakpoint
CREATE TABLE `used_assertions` (
	`agency_id` text NOT NULL,
	`jti` text NOT NULL,
	`expires_at` text NOT NULL,
	PRIMARY KEY(`agency_id`, `jti`)
);
--> statement-breakpoint
CREATE INDEX `used_assertions_expiry` ON `used_assertions` (`expires_at`);