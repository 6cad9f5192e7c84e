CREATE TABLE "console_sessions" (
	"id" text PRIMARY KEY NOT NULL,
	"token_hash" text NOT NULL,
	"professional_id" text NOT NULL,
	"csrf_token" text NOT NULL,
	"device" text NOT NULL,
	"created_at" text NOT NULL,
	"last_seen_at" text NOT NULL,
	"expires_at" text NOT NULL,
	"revoked_at" text
);
--> statement-breakpoint
CREATE TABLE "passkeys" (
	"id" text PRIMARY KEY NOT NULL,
	"professional_id" text NOT NULL,
	"public_key" "bytea" NOT NULL,
	"counter" bigint NOT NULL,
	"transports" jsonb NOT NULL,
	"backed_up" boolean NOT NULL,
	"created_at" text NOT NULL,
	"last_used_at" text
);
--> statement-breakpoint
CREATE TABLE "professional_invitations" (
	"token_hash" text PRIMARY KEY NOT NULL,
	"professional_id" text NOT NULL,
	"invited_by" text,
	"created_at" text NOT NULL,
	"expires_at" text NOT NULL,
	"used_at" text
);
--> statement-breakpoint
CREATE TABLE "professionals" (
	"id" text PRIMARY KEY NOT NULL,
	"agency_id" text NOT NULL,
	"name" text NOT NULL,
	"email" text NOT NULL,
	"phone" text,
	"roles" jsonb NOT NULL,
	"status" text NOT NULL,
	"webauthn_user_id" text NOT NULL,
	"oidc_issuer" text,
	"oidc_subject" text,
	"created_at" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "console_sessions" ADD CONSTRAINT "console_sessions_professional_id_professionals_id_fk" FOREIGN KEY ("professional_id") REFERENCES "public"."professionals"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "passkeys" ADD CONSTRAINT "passkeys_professional_id_professionals_id_fk" FOREIGN KEY ("professional_id") REFERENCES "public"."professionals"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "professional_invitations" ADD CONSTRAINT "professional_invitations_professional_id_professionals_id_fk" FOREIGN KEY ("professional_id") REFERENCES "public"."professionals"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "professionals" ADD CONSTRAINT "professionals_agency_id_agencies_id_fk" FOREIGN KEY ("agency_id") REFERENCES "public"."agencies"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "console_sessions_token" ON "console_sessions" USING btree ("token_hash");--> statement-breakpoint
CREATE INDEX "console_sessions_professional" ON "console_sessions" USING btree ("professional_id","revoked_at");--> statement-breakpoint
CREATE INDEX "passkeys_professional" ON "passkeys" USING btree ("professional_id");--> statement-breakpoint
CREATE INDEX "professional_invitations_professional" ON "professional_invitations" USING btree ("professional_id");--> statement-breakpoint
CREATE UNIQUE INDEX "professionals_agency_email" ON "professionals" USING btree ("agency_id","email");--> statement-breakpoint
CREATE UNIQUE INDEX "professionals_webauthn_user" ON "professionals" USING btree ("webauthn_user_id");--> statement-breakpoint
CREATE UNIQUE INDEX "professionals_oidc_subject" ON "professionals" USING btree ("oidc_issuer","oidc_subject");