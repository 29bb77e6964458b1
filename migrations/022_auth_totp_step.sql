-- RFC 6238 §5.2: "the verifier MUST NOT accept the second attempt of the same OTP after the successful
-- validation has been issued for the first OTP". The last accepted time step per login.
alter table auth.users add column if not exists totp_last_step bigint not null default 0;
