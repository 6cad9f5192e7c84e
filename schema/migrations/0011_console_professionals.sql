CREATE TABLE `console_sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`token_hash` text NOT NULL,
	`professional_id` text NOT NULL,
	`csrf_token` text NOT NULL,
	`device` text NOT NULL,
	`created_at` text NOT NULL,
	`last_seen_at` text NOT NULL,
	`expires_at` text NOT NULL,
	`revoked_at` text,
	FOREIGN KEY (`professional_id`) REFERENCES `professionals`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `console_sessions_token` ON `console_sessions` (`token_hash`);--> statement-breakpoint
CREATE INDEX `console_sessions_professional` ON `console_sessions` (`professional_id`,`revoked_at`);--> statement-breakpoint
CREATE TABLE `passkeys` (
	`id` text PRIMARY KEY NOT NULL,
	`professional_id` text NOT NULL,
	`public_key` blob NOT NULL,
	`counter` integer NOT NULL,
	`transports` text NOT NULL,
	`backed_up` integer NOT NULL,
	`created_at` text NOT NULL,
	`last_used_at` text,
	FOREIGN KEY (`professional_id`) REFERENCES `professionals`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `passkeys_professional` ON `passkeys` (`professional_id`);--> statement-breakpoint
CREATE TABLE `professional_invitations` (
	`token_hash` text PRIMARY KEY NOT NULL,
	`professional_id` text NOT NULL,
	`invited_by` text,
	`created_at` text NOT NULL,
	`expires_at` text NOT NULL,
	`used_at` text,
	FOREIGN KEY (`professional_id`) REFERENCES `professionals`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `professional_invitations_professional` ON `professional_invitations` (`professional_id`);--> statement-breakpoint
CREATE TABLE `professionals` (
	`id` text PRIMARY KEY NOT NULL,
	`agency_id` text NOT NULL,
	`name` text NOT NULL,
	`email` text NOT NULL,
	`phone` text,
	`roles` text NOT NULL,
	`status` text NOT NULL,
	`webauthn_user_id` text NOT NULL,
	`oidc_issuer` text,
	`oidc_subject` text,
	`created_at` text NOT NULL,
	FOREIGN KEY (`agency_id`) REFERENCES `agencies`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `professionals_agency_email` ON `professionals` (`agency_id`,`email`);--> statement-breakpoint
CREATE UNIQUE INDEX `professionals_webauthn_user` ON `professionals` (`webauthn_user_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `professionals_oidc_subject` ON `professionals` (`oidc_issuer`,`oidc_subject`);