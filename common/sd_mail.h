/*  sd_mail: plain-text mail over SMTP with libcurl.

    The message is built here as RFC 5322 text: Date, Message-ID, From, To,
    Subject (RFC 2047 "=?UTF-8?B?...?=" encoded words when it is not plain
    ASCII), MIME-Version and a UTF-8 text/plain body sent as 8bit with CRLF
    line ends. Header values that contain CR or LF are rejected, so a value
    taken from a config or a peer cannot add a header. Addresses must be
    plain ASCII ("ops@example.com"); internationalized addresses (SMTPUTF8)
    are not supported.
*/
#ifndef SD_MAIL_H
#define SD_MAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *from;              //  envelope sender and From address
    const char *const *recipients; //  envelope recipients, all listed in To
    size_t recipient_count;
    const char *reply_to; //  NULL for none
    const char *subject;  //  UTF-8
    const char *text;     //  UTF-8 body; LF or CRLF line ends
} sd_mail_message;

typedef struct {
    const char *url;      //  "smtp://host:port" or "smtps://host:port"
    bool starttls;        //  require STARTTLS on an smtp:// URL
    const char *user;     //  NULL: no login
    const char *password; //  NULL: no login
    long timeout_ms;      //  whole transfer; 0 for 60 s
} sd_mail_server;

//  Builds the RFC 5322 text of message, dated now_ms (milliseconds since
//  the Unix epoch, shown in UTC). Returns a new string (caller frees), or
//  NULL with one line in error naming the invalid value.
char *sd_mail_format(const sd_mail_message *message, int64_t now_ms, char *error, size_t size);

//  Sends message through server, dated sd_now_ms(). Blocks until the
//  server accepted or refused it. Returns 0, or -1 with one line in error.
int sd_mail_send(const sd_mail_server *server, const sd_mail_message *message, char *error,
                 size_t size);

//  Reads a password file that must not be readable by group or others, and
//  removes one trailing newline. Returns a new string (caller frees), or
//  NULL with one line in error.
char *sd_mail_read_password(const char *path, char *error, size_t size);

#endif
